import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from labkit import plots  # noqa: E402


def teardown_function():
    plt.close("all")


def test_curves():
    fig = plots.curves({"loss": [1, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]})
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="available"):
        plots.curves({"loss": [1]}, metrics=["acc"])
    with pytest.raises(TypeError):
        plots.curves([])


def test_decision_boundary():
    X = np.random.default_rng(0).normal(size=(50, 2))
    y = (X[:, 0] > 0).astype(int)
    fig = plots.decision_boundary(lambda P: np.c_[P[:, 0] <= 0, P[:, 0] > 0].astype(float), X, y, resolution=30)
    assert fig.axes
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plots.decision_boundary(lambda P: P, np.zeros((5, 3)), np.zeros(5))


def test_image_grid_and_confusion_and_overlay():
    imgs = np.random.default_rng(0).random((5, 8, 8))
    assert plots.image_grid(imgs, [0, 1, 2, 3, 4], [0, 1, 0, 3, 4], ncols=3)
    with pytest.raises(ValueError, match="labels"):
        plots.image_grid(imgs, [0, 1])
    fig = plots.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], names=["a", "b", "c"], normalize=True)
    assert fig.axes
    assert plots.heatmap_overlay(imgs[0], imgs[1])
    with pytest.raises(ValueError, match="resize"):
        plots.heatmap_overlay(imgs[0], np.zeros((4, 4)))


def test_image_grid_fixed_scale_and_row_titles():
    """03 and 04 draw augmented copies on the originals' colour scale, one titled row per pass."""
    imgs = np.random.default_rng(1).random((8, 6, 6, 1)) * 0.5
    fig = plots.image_grid(imgs, ncols=4, vmin=0, vmax=1, row_titles=["before", "after"])
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 8 and all(ax.images[0].get_clim() == (0, 1) for ax in shown)
    assert [shown[0].get_title(loc="left"), shown[4].get_title(loc="left")] == ["before", "after"]
    with pytest.raises(ValueError, match="row titles"):
        plots.image_grid(imgs, ncols=4, row_titles=["only one"])
    with pytest.raises(ValueError, match="ncols"):
        plots.image_grid(imgs, ncols=0)
