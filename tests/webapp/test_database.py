"""The web app's database engine belongs to Flask-SQLAlchemy (issue 14): its config keys and
engine options, one engine shared with the store, SQLite configured as the store needs it."""
import sqlalchemy as sa

from webapp import create_app, db


def test_the_store_runs_on_flask_sqlalchemys_engine(tmp_path, sqlite_template):
    import shutil
    path = tmp_path / "app.db"
    shutil.copy(sqlite_template, path)
    app = create_app({"ENV_NAME": "test", "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{path}"})
    store = app.extensions["workflows"].store
    with app.app_context():
        assert store.engine is db.engine
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{path}"
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["check_same_thread"] is False
    with store.read() as conn:                           # WAL and foreign keys as the store sets them
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with store.transaction() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM instances")).scalar() == 0
    store.dispose()
