"""Landmark table, the ``python -m pspin.theory`` entry point and the plot helper."""

from __future__ import annotations

import math

import pspin.theory as th
import pytest
from pspin.theory.__main__ import main


def test_landmarks_p3():
    table = th.landmarks(3)
    assert table["model"] == "p=3"
    assert table["e_th"] == pytest.approx(-1.1547005, abs=6e-8)
    assert table["e_gs"] == pytest.approx(-1.1716748, abs=6e-8)
    assert table["e_gs_1rsb"] == pytest.approx(table["e_gs"], abs=1e-9)
    assert table["T_d"] == pytest.approx(math.sqrt(3 / 8), rel=1e-12)
    assert table["T_s"] == pytest.approx(0.5860540, abs=6e-8)
    assert table["sigma_eq_Td"] == pytest.approx(table["sigma_minima_threshold"], abs=1e-9)
    assert table["e_gs"] < table["e_1"] < table["e_2"] < table["e_th"]


def test_landmarks_p2_has_no_transition():
    table = th.landmarks(2)
    assert math.isnan(table["T_d"]) and math.isnan(table["T_s"])
    assert table["e_gs"] == pytest.approx(-1.0)


def test_main_prints_table(capsys):
    assert main(["--p", "3"]) == 0
    out = capsys.readouterr().out
    assert "p=3" in out and "-1.1716748" in out and "0.6123724" in out
    assert main(["--p", "3", "--mix", "3:0.8,4:0.6"]) == 0
    assert "3:0.8+4:0.6" in capsys.readouterr().out
    assert main(["--p", "1"]) == 2
    assert ">= 2" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--mix", "3-0.5"])


def test_plot_complexity():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt
    from pspin.theory.plot import plot_complexity

    ax = plot_complexity(3)
    assert len(ax.lines) >= 4  # all indices + k = 0, 1, 2 (+ marker lines)
    assert "p=3" in ax.get_title()
    _fig, ax2 = plt.subplots()
    assert plot_complexity({3: 0.8, 4: 0.6}, ax=ax2) is ax2
    plt.close("all")
