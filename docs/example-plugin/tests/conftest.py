import sys
from pathlib import Path

# An installed plugin needs nothing here; this lets the example's tests run from a checkout.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
