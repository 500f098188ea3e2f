"""The reasonability matrix feeding GRADIA training: snapshot quadrants -> per-image weights."""

from __future__ import annotations

import pytest
import torch

from modeling.worker.gradia import WeightedDataset, gradia_table, gradia_weights


def test_quadrants_give_the_reference_weights_by_default() -> None:
    assessments = {"1": "UIA", "2": "UA", "3": "RIA", "4": "RA"}
    pred, attn = gradia_weights([1, 2, 3, 4, 5], assessments, gradia_table({}))
    assert pred.tolist() == pytest.approx([1.0, 0.4, 0.8, 1.0, 1.0])
    assert attn.tolist() == pytest.approx([1.0, 1.6, 0.2, 0.0, 1.0])


def test_job_parameters_override_one_quadrant() -> None:
    table = gradia_table({"gradia_ua_attn": 3.0, "gradia_unassessed_pred": 0.5})
    pred, attn = gradia_weights([2, 9], {"2": "UA"}, table)
    assert attn.tolist() == pytest.approx([3.0, 1.0])
    assert pred.tolist() == pytest.approx([0.4, 0.5])


def test_weighted_items_carry_both_weights() -> None:
    base = [{"image": torch.zeros(1), "label": torch.tensor(0)}]
    item = WeightedDataset(base, torch.tensor([0.4]), torch.tensor([1.6]))[0]
    assert float(item["pred_weight"]) == pytest.approx(0.4)
    assert float(item["expl_weight"]) == pytest.approx(1.6)
    assert "pred_weight" not in base[0]


@pytest.mark.django_db
def test_the_training_snapshot_records_the_quadrant_of_assessed_images(
    project, owner, reviewer
) -> None:
    from labeling.services.review import assessment_submit
    from modeling.services.jobs import training_snapshot
    from tests.labeling.review_support import make_images, make_version, predict

    images = make_images(project, owner, ["abnormal", "normal"], split="train")
    version = make_version(project)
    predict(version, images[0], "abnormal")
    assessment_submit(
        model_version=version, image=images[0], reviewer=reviewer, q1_needed=False, q2_unneeded=True
    )
    snapshot = training_snapshot(project=project)
    assert snapshot["assessments"] == {str(images[0].pk): "UA"}
    pred, attn = gradia_weights(
        [images[0].pk, images[1].pk], snapshot["assessments"], gradia_table({})
    )
    assert pred.tolist() == pytest.approx([0.4, 1.0]) and attn.tolist() == pytest.approx([1.6, 1.0])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # the runner closes connections, as a worker does
def test_a_gradia_job_trains_with_the_weights_of_the_review(
    project, owner, reviewer, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    from labeling.services.review import assessment_submit, image_predictions_record
    from modeling import services as modeling_services
    from modeling.worker import guided, runner
    from tests.labeling.review_support import make_version, store_map
    from tests.modeling.helpers import QUICK_TRAIN, add_tiny_images

    images = add_tiny_images(project, owner, per_split={"train": 4, "val": 2, "test": 0})
    version = make_version(project)
    first = images[0]  # labelled "normal", predicted "normal", judged unreasonable -> UA
    image_predictions_record(
        model_version=version, probabilities=[(first.pk, {"normal": 0.7, "abnormal": 0.3})]
    )
    store_map(version, first)
    assessment_submit(
        model_version=version, image=first, reviewer=reviewer, q1_needed=False, q2_unneeded=False
    )
    weights: dict[int, tuple[float, float]] = {}
    real_step = guided.guided_step

    def spy(model, batch, **kwargs):
        for name, p, a in zip(
            batch["name"], batch["pred_weight"], batch["expl_weight"], strict=True
        ):
            weights[int(name)] = (float(p), float(a))
        return real_step(model, batch, **kwargs)

    monkeypatch.setattr(guided, "guided_step", spy)
    with django_capture_on_commit_callbacks(execute=False):
        job = modeling_services.job_create(
            project=project,
            user=owner,
            kind="train",
            parameters={**QUICK_TRAIN, "method": "gradia", "epochs": 1, "gradia_ua_attn": 2.5},
        )
    assert job.snapshot["assessments"] == {str(first.pk): "UA"}
    assert runner.run_job(job_id=job.pk, heartbeat=False) == "succeeded"
    assert weights[first.pk] == pytest.approx((0.4, 2.5))
    assert weights[images[1].pk] == pytest.approx((1.0, 1.0))
