"""``python -m emulators.salesforce --port N``: serve the emulator until interrupted."""

import argparse
import threading

from emulators.salesforce.testing import start_emulator


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the Salesforce emulator on 127.0.0.1.")
    parser.add_argument(
        "--port", type=int, default=8700, help="production login port; sandbox, My Domain and instance follow"
    )
    args = parser.parse_args()
    running = start_emulator(base_port=args.port)
    print(f"Salesforce emulator (org {running.org.org_id})", flush=True)
    print(f"  production login: {running.production_url}", flush=True)
    print(f"  sandbox login:    {running.sandbox_url}", flush=True)
    print(f"  My Domain login:  {running.mydomain_url}", flush=True)
    print(f"  instance:         {running.instance_url}", flush=True)
    print(f"  control API:      {running.control_url}/", flush=True)
    print(f"  records:          {running.control_url}/records", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        running.stop()


if __name__ == "__main__":
    main()
