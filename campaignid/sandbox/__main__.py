import argparse
import logging
import os

from .server import run

parser = argparse.ArgumentParser(prog="campaignid sandbox", description="Run the provider sandboxes.")
parser.add_argument("--host", default=os.environ.get("SANDBOX_HOST", "127.0.0.1"))
parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", "8900")))
parser.add_argument("--data-dir", default=os.path.join(os.environ.get("CAMPAIGNID_DATA_DIR", "var"), "sandbox"))
args = parser.parse_args()
logging.basicConfig(level=logging.INFO)
run(args.host, args.port, args.data_dir)
