"""`flask --app lms labs build|check|list`."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.core.exceptions import UserError
from lms.extensions import db

labs_cli = click.Group("labs", help="Build, check and list notebook labs.")


def _selected(target: str | None):
    from . import queries

    labs = [lab for lab in queries.all_labs() if not lab.archived]
    if target:
        course, _, slug = target.partition("/")
        labs = [lab for lab in labs if lab.course_slug == course and (not slug or lab.slug == slug)]
        if not labs:
            raise click.ClickException(f"no lab matches {target!r} (import the course first: flask courses import)")
    return labs


@labs_cli.command("build")
@click.argument("target", required=False)
@click.option("--force", is_flag=True, help="Rebuild even if the notebooks did not change.")
@with_appcontext
def build_command(target: str | None, force: bool) -> None:
    """Generate releases and run the authoring check for imported labs (COURSE or COURSE/LAB)."""
    from . import operations
    from .facade import BuildError

    failed = 0
    for lab in _selected(target):
        if not force and lab.built_hash == lab.source_hash and \
                operations.grader_for(lab.course_slug).is_built(lab.slug):
            click.echo(f"{lab.key}: up to date ({lab.points:g} points)")
            continue
        try:
            outcome = operations.build_lab(lab)
            click.echo(f"{lab.key}: built; solution {outcome['points']:g}/{outcome['points']:g}, release 0 "
                       f"({outcome['duration_s']:.1f} s)")
        except BuildError as error:
            failed += 1
            click.echo(f"ERROR {error}", err=True)
        db.session.commit()
    if failed:
        sys.exit(1)


@labs_cli.command("check")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def check_command(path: Path) -> None:
    """Check lab folders without touching the database: PATH is a lab, a course or a courses folder."""
    from . import labspec, operations, sandbox
    from .facade import BuildError, CourseGrader

    if (path / "lab.yaml").is_file():
        dirs = [path]
    else:
        dirs = sorted(p.parent for p in path.glob("labs/*/lab.yaml"))
        dirs += sorted(p.parent for p in path.glob("*/labs/*/lab.yaml"))
    if not dirs:
        raise click.ClickException(f"no lab.yaml under {path}")
    failed = 0
    with tempfile.TemporaryDirectory(prefix="nia-labcheck-") as tmp:
        for directory in dirs:
            course = directory.parent.parent.name
            try:
                spec = labspec.load_lab(directory)
                grader = CourseGrader(Path(tmp) / course, course,
                                      allow_unsafe=current_app.config["GRADING_ALLOW_UNSAFE"],
                                      extra_ro=sandbox.extra_readonly_paths(Path(__file__).resolve().parent.parent))
                env = {"NIA_LAB_SCENARIO": spec.scenario, "NIA_LAB_TRAINEE": "author",
                       "NIA_LAB_DURATION_S": str(spec.duration_s)}
                outcome = grader.build(spec.slug, directory, spec.notebooks, seed=operations.AUTHOR_SEED, env=env,
                                       time_limit_s=spec.time_limit_s, memory_mb=spec.memory_mb)
                click.echo(f"{course}/{spec.slug}: ok ({outcome['points']:g} points)")
            except (UserError, BuildError) as error:
                failed += 1
                click.echo(f"ERROR {course}/{directory.name}: {getattr(error, 'message', error)}", err=True)
    if failed:
        sys.exit(1)


@labs_cli.command("list")
@with_appcontext
def list_command() -> None:
    """List imported labs with their build state."""
    from . import queries

    for lab in queries.all_labs():
        if lab.archived:
            state = "archived"
        elif lab.built_hash == lab.source_hash:
            state = "built"
        else:
            state = f"BUILD ERROR: {lab.build_error}" if lab.build_error else "not built"
        click.echo(f"{lab.key}\t{lab.title}\t{lab.points:g} pts\tpass {queries.pass_points(lab):g}\t{state}")
