"""Commands that run or look after the service: info, project, replay, serve, demo."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import threading
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.capacity import check_workers
from api.cli.common import context
from api.cli.tokens import service_store
from api.demo import load_demo
from api.demo_data import DEMO_ACTORS
from api.security import ServiceStore
from api.serving import serve
from ledger.records import Seal
from ledger.storage import DEFAULT_URL, ENV_URL, database_url, library_env, shown_url
from projections.db import ENV_READ_URL, read_url_for
from projections.replay import replay_and_compare
from projections.snapshots import census


def cmd_info(args: argparse.Namespace) -> int:
    url = args.database_url or database_url()
    with context(args, read_only=True) as ctx:
        module = library_env(url)["PERSISTENCE_MODULE"].rsplit(".", 1)[-1]
        print(f"store: {module} ({shown_url(url)})")
        print(f"read models: {shown_url(ctx.read_db.url)}")
        print(f"events recorded: {ctx.app.recorder.max_notification_id() or 0}")
        print(f"events projected: {ctx.read_db.position()}")
        stored, seals = census(ctx.app)
        print(f"snapshots stored: {stored} ({', '.join(f'{seals[seal]} {seal}' for seal in Seal)})")
        if seals[Seal.BROKEN]:
            print(f"  {seals[Seal.BROKEN]} fail their seal and are never used: run `grantledger verify` to name them")
    return 0


def cmd_project(args: argparse.Namespace) -> int:
    """Bring the read models up to date, or keep them so with --follow."""
    with context(args) as ctx:
        try:
            applied = ctx.projector.catch_up()
        except Exception:  # the projector recorded which event failed: name it, exit non-zero
            failure = ctx.projector.failure
            if failure is None:
                raise
            print(
                f"{failure.describe()}\nread models stopped at event {ctx.read_db.position()} "
                f"(event type {failure.topic}, aggregate {failure.aggregate_id} version {failure.version}); "
                "nothing after it was applied",
                file=sys.stderr,
            )
            return 1
        print(f"applied {applied} events; read models at event {ctx.read_db.position()}")
        if args.follow:
            stopping = threading.Event()
            try:
                ctx.projector.follow(stopping)
            except KeyboardInterrupt:
                stopping.set()
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Rebuild every read model from the first event and compare with the live ones."""
    err = Console(stderr=True)
    with context(args, read_only=True) as ctx:
        head = ctx.app.recorder.max_notification_id() or 0
        started = time.perf_counter()
        with Progress(
            TextColumn("replaying"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} events/s"),
            TimeElapsedColumn(),
            console=err,
        ) as bar:
            task = bar.add_task("replay", total=head, rate="-")

            def progress(applied: int, position: int) -> None:
                elapsed = max(time.perf_counter() - started, 1e-9)
                bar.update(task, completed=position, rate=f"{applied / elapsed:,.0f}")

            report = replay_and_compare(ctx.app, ctx.read_db, progress=progress)
        elapsed = time.perf_counter() - started
        rate = report.events / elapsed if elapsed else 0.0
        print(
            f"replayed {report.events} events to position {report.position} in {elapsed:.1f} s ({rate:,.0f} events/s)"
        )
        if report.stuck:
            print(f"the live read models cannot be brought up to date; they stop at event {report.position}:")
            print(f"  {report.stuck}")
        if report.identical:
            print("rebuilt read models are identical to the live ones")
            return 0
        if not report.differences:
            return 1
        print(f"{len(report.differences)} differences between the live and the rebuilt read models:")
        for difference in report.differences:
            print(f"  {difference}")
        return 1


def cmd_demo(args: argparse.Namespace) -> int:
    """Load the EU-ALLIANCE demo into an empty store and print tokens to try it with.

    With --reuse, a store that already holds the demo is kept, and so are its users' tokens (a
    running service may be using them): only a demo user without an active token gets one."""
    url = args.database_url or database_url()
    with context(args, create=True) as ctx:
        if ctx.app.recorder.max_notification_id() and args.reuse:
            print(f"the demo is already loaded in {shown_url(url)}; its users keep the tokens they have")
        else:
            summary = load_demo(ctx.app, ctx)
            for line in summary.lines():
                print(line)
        ctx.projector.catch_up()
        store = service_store(ctx)
        now = store.clock()
        active = {info.name for info in store.list_tokens() if info.active(now)}
        print(f"\nevents: {shown_url(url)}\nread models: {shown_url(ctx.read_db.url)}")
        if not args.database_url and url != DEFAULT_URL:  # named by the environment, as scripts/demo does
            print(
                f"the command line finds this store with --database-url {shown_url(url)} or {ENV_URL}={shown_url(url)}"
            )
        print("tokens (shown once; send as 'Authorization: Bearer <token>'):")
        kept = []
        for actor in DEMO_ACTORS:
            if actor.id in active:
                kept.append(actor)
                shown = "(kept: the token printed when it was made still works)"
            else:
                shown = store.create_token(name=actor.id, role=actor.role, partner=actor.partner)
            print(f"  {actor.role:<11} {actor.partner or '':<10} {actor.id:<20} {shown}")
        _demo_users(store, url)
        if kept:
            first = kept[0]
            partner = f" --partner {first.partner}" if first.partner else ""
            where = "" if url == DEFAULT_URL else f" --database-url {shown_url(url)}"
            print(
                f"for a new token: grantledger{where} token revoke --name {first.id}, then "
                f"grantledger{where} token create --role {first.role}{partner} --name {first.id} "
                "(likewise for the others)"
            )
    return 0


def _demo_users(store: ServiceStore, url: str) -> None:
    """A web app user per demo actor, each with a generated password printed once; a demo user
    who exists already (``--reuse``) keeps theirs."""
    existing = {user.name for user in store.accounts.list_users()}
    print("web app users (sign in at the address the service listens on, as scripts/demo prints it; shown once):")
    for actor in DEMO_ACTORS:
        if actor.id in existing:
            shown = "(kept: the one printed when it was made still works)"
        else:
            shown = secrets.token_urlsafe(12)
            store.accounts.create_user(name=actor.id, role=actor.role, partner=actor.partner, password=shown)
        who = actor.role + (f" of {actor.partner}" if actor.partner else "")
        print(f"  {actor.id:<20} {who:<22} password: {shown}")
    if existing & {actor.id for actor in DEMO_ACTORS}:
        where = "" if url == DEFAULT_URL else f" --database-url {shown_url(url)}"
        print(
            f"a password lost? start the demo afresh (delete its store), or grantledger{where} user disable "
            "--name NAME and user create another user"
        )


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the HTTP service: uvicorn for one worker, gunicorn with uvicorn workers for several
    (each projects under a lock; they all stop when gunicorn stops or dies). Creates the
    stores on a fresh install."""
    if args.database_url:
        os.environ[ENV_URL] = args.database_url
    if args.read_database_url:
        os.environ[ENV_READ_URL] = args.read_database_url
    event_url = database_url()
    check_workers(args.workers, event_url, read_url_for(event_url))
    serve(args.host, args.port, args.workers)
    return 0
