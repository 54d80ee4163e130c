"""The package: every public name resolves (on first use), and its data alone costs no Faker import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mockpipe.factories as factories


def test_every_public_name_resolves() -> None:
    for name in factories.__all__:
        assert getattr(factories, name) is not None, name
    assert set(factories.__all__) <= set(dir(factories))
    with pytest.raises(AttributeError, match="no attribute 'Device'"):
        _ = factories.Device


def test_the_factories_data_loads_without_faker() -> None:
    code = "import sys, mockpipe.factories.data, mockpipe.factories.cases; print('faker' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
