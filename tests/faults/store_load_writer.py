"""One writer for the store load test: logs 4 metrics every step through RunLog (the worker's
own batching path, with its heartbeat) for SECONDS, then prints the rows it logged.

python store_load_writer.py HOME RUN_ID SECONDS STEPS_PER_SECOND
"""
import os
import sys
import time

from engine.store.database import Store
from engine.store.run_log import RunLog


def main(home: str, run_id: str, seconds: float, rate: float) -> int:
    lease = Store(home).claim_run(run_id, os.getpid(), os.uname().nodename)  # as a worker starts
    log = RunLog(home, run_id, lease)
    start, step = time.monotonic(), 0
    while time.monotonic() - start < seconds:
        step += 1
        log.metrics(step, step / 100, {"loss": 1.0 / step, "lr": 0.1, "img_per_s": 1000.0, "epoch": step / 100})
        time.sleep(max(0.0, start + step / rate - time.monotonic()))
    log.flush(status="completed", ended=time.time(), step=step)
    log.close()
    print(step * 4)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])))
