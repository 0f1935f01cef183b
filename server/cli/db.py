"""`alliance db`: bring the database to the newest migration, and load the seed."""

import typer

from server.config import Settings
from store import migrate, seed

from ._shared import load_settings, out, run

app = typer.Typer(help="Migrate and seed the database.")


def upgrade_and_seed(settings: Settings, with_seed: bool) -> None:
    """Migrate, then seed when asked; `serve --demo` starts this way too."""

    async def work(engine) -> seed.SeedReport | None:
        await migrate.upgrade(engine)
        return await seed.seed(engine) if with_seed else None

    report = run(settings, work)
    if report is not None:
        _print_seed(report)


def _print_seed(report: seed.SeedReport) -> None:
    if report.already_seeded:
        out.print("seed: already present, nothing changed")
    else:
        counts = ", ".join(f"{n} {kind}" for kind, n in report.created.items())
        out.print(f"seed: created {counts}")


@app.command("upgrade")
def upgrade() -> None:
    """Bring the database to the newest migration."""
    upgrade_and_seed(load_settings(), with_seed=False)
    out.print(f"database at migration {migrate.head()}")


@app.command("seed")
def seed_() -> None:
    """Load the ISA as of 2018-04-23 (migrating first); does nothing when already seeded."""
    upgrade_and_seed(load_settings(), with_seed=True)
