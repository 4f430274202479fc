"""A progress bar with tqdm when it is installed (the `bench` extra), plain lines otherwise."""

from __future__ import annotations

import sys


class Progress:
    def __init__(self, total: int, description: str, unit: str = "run"):
        self.total, self.done, self.description = total, 0, description
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = None
        else:
            self.bar = tqdm(total=total, desc=description, unit=unit,
                            file=sys.stderr, dynamic_ncols=True)

    def update(self, status: str = "") -> None:
        self.done += 1
        if self.bar is not None:
            if status:
                self.bar.set_postfix_str(status, refresh=False)
            self.bar.update(1)
        elif self.done == self.total or self.done % max(self.total // 10, 1) == 0:
            # about ten lines per run: enough to see it move, few enough for CI logs
            print(f"{self.description}: {self.done}/{self.total} {status}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
