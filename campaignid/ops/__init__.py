"""Operations: audit events, shared counters (rate limits, login throttling). Only the edges import it."""
