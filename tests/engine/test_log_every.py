"""``log_every`` thins the stored metrics; every epoch's last step is stored regardless, and a
config stored before the parameter existed still trains and logs every step."""
from engine.runs.worker import execute
from engine.store.database import Store
from engine.training.config import build_config

SETS = {"train_size": "64", "test_size": "32", "image_size": "16", "width": "8"}


def _config(**train):
    return build_config("shapes", "simclr", "convnet", sets=SETS,
                        train={"epochs": 2, "batch_size": 16, "knn_every": 0, **train})


def _loss_steps(store, run_id):
    return store.metric_series(run_id, "loss")[0]


def test_log_every_stores_every_nth_step_and_each_epochs_end(home):
    store = Store(home)
    run_id = store.create_run(_config(log_every=3))
    assert execute(home, run_id) == "completed"
    per_epoch = store.get_run(run_id).total_steps // 2
    assert per_epoch == 4
    assert _loss_steps(store, run_id) == [3, 4, 6, 8]
    assert store.get_run(run_id).step == 8
    store.close()


def test_a_config_stored_without_log_every_logs_every_step(home):
    store = Store(home)
    config = _config()
    del config["train"]["log_every"]  # as stored by an older version
    run_id = store.create_run(config)
    assert execute(home, run_id) == "completed"
    assert _loss_steps(store, run_id) == list(range(1, 9))
    store.close()
