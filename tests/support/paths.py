"""Where the test suite's files are."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
SDK_CAPTURES = TESTS / "data" / "sdk_captures"
SDK_DIR = TESTS / "sdk"
RECORDINGS = ROOT / "recordings"
README = ROOT / "README.md"
