"""The benchmark corpus's own bookkeeping (bench/scenes), without starting any program.

The scenes themselves need LibreOffice, Firefox, Evince and fcitx5-mozc (./run bench-setup) and
minutes each, so they are a benchmark, not a test; what is checked here is what the figures
depend on: well-formed timelines, the summary's "worst" rule, and a clear message when a
program is missing."""

from __future__ import annotations

import numpy as np
import pytest

from bench.bandwidth import FIGURES, Shown, repainted, time_to_crisp, worst
from bench.scenes.corpus import CORPUS
from bench.scenes.live import BIG_KINDS, STEADY_MARGIN_S, LiveScene, Scene, SceneError


@pytest.mark.parametrize("scene", CORPUS.values(), ids=CORPUS)
def test_each_scene_has_an_ordered_timeline_that_ends_before_the_scene(scene):
    times = [step.at for step in scene.timeline]
    assert times == sorted(times)
    assert any(step.kind in BIG_KINDS for step in scene.timeline)
    # the last switch or scroll must have time to get crisp again before the capture stops
    assert times[-1] + STEADY_MARGIN_S <= scene.duration_s


def test_the_corpus_has_the_issues_applications_and_one_scene_uses_the_ime():
    assert set(CORPUS) == {
        "calc",
        "writer",
        "browser_form",
        "browser_long",
        "pdf",
        "desktop_switch",
        "desktop_maximised",
    }
    assert [s.name for s in CORPUS.values() if s.ime] == ["writer"]


def test_the_summary_keeps_each_figures_worst_value_and_null_wins():
    a = {"scene": "a", "kbps_mean": 30.0, "text_ssim_steady": 0.99, "recover_crisp_s": 2.0}
    b = {"scene": "b", "kbps_mean": 41.5, "text_ssim_steady": 0.97, "recover_crisp_s": None}
    assert worst([a, b]) == {"kbps_mean": 41.5, "text_ssim_steady": 0.97, "recover_crisp_s": None}
    assert "first_focus_legible_s" in FIGURES


def test_a_missing_program_is_named_with_the_set_up_command_and_nothing_starts(tmp_path):
    made = []
    scene = Scene(
        name="missing",
        description="needs a program no machine has",
        duration_s=10.0,
        programs=[],
        timeline=[],
        make_content=made.append,
        commands=("no-such-office-program",),
    )
    with (
        pytest.raises(SceneError, match=r"no-such-office-program.*\./run bench-setup"),
        LiveScene(scene),
    ):
        pass
    assert made == []  # no content made, no display started


def test_a_step_counts_from_the_end_of_the_repaint_it_caused():
    changes = [1.0, 10.3, 10.6, 10.9, 14.0, 20.0]
    assert repainted(changes, 10.0) == 10.9  # the program repainted after xdotool returned
    assert repainted(changes, 12.5) == 12.5  # nothing soon after: it had repainted already
    assert repainted(changes, 19.2) == 20.0  # a late single repaint within the wait
    assert 7.7 < repainted([5.0 + 0.2 * i for i in range(40)], 5.0) <= 8.0  # REPAINT_MAX_S


def _pictures(*times: tuple[float, float]) -> list[Shown]:
    """Pictures shown at ``at`` and captured at ``capture_t`` (their pixels do not matter)."""
    return [Shown.keep(at, capture_t, np.zeros((2, 2, 4), np.uint8)) for at, capture_t in times]


def test_recovery_is_zero_when_the_picture_on_display_is_already_crisp():
    """A step that changed nothing sends no frame: the picture on display stays right."""
    shown = _pictures((10.0, 9.9), (16.0, 15.9))
    assert time_to_crisp(shown, 12.0, lambda s, t: True) == 0.0


def test_recovery_waits_for_a_crisp_picture_captured_after_the_step():
    shown = _pictures((10.0, 9.9), (12.5, 12.3), (13.0, 12.8), (14.0, 13.9))
    blurry_until_13 = {10.0: False, 12.5: False, 13.0: True, 14.0: True}
    assert time_to_crisp(shown, 12.0, lambda s, t: blurry_until_13[s.at]) == 1.0
    # a picture captured before the step is not its recovery, even when shown after it
    stale = _pictures((10.0, 9.9), (12.5, 11.9), (14.0, 13.9))
    assert time_to_crisp(stale, 12.0, lambda s, t: s.at != 10.0) == 2.0


def test_recovery_not_within_the_limit_is_none():
    shown = _pictures((10.0, 9.9), (50.0, 49.9))
    assert time_to_crisp(shown, 12.0, lambda s, t: s.at == 50.0) is None
