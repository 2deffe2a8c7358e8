"""Command line: parse, call the library, render, exit. No logic lives here.

One module per area registers its commands on `main`.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from genai_provenance import __version__
from genai_provenance.errors import ProvenanceError
from genai_provenance.files import os_problem, regular_file_problem
from genai_provenance.safe_text import clip, one_line, terminal_safe

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class RegularFile(click.Path):
    """A file option: when the path exists it must be a regular file (a FIFO or device would hang a read)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = super().convert(value, param, ctx)
        if os.path.lexists(path) and not os.path.isdir(path):
            problem = regular_file_problem(Path(os.fsdecode(path)))
            if problem:
                self.fail(f"{terminal_safe(os.fsdecode(path))!r}: {problem}", param, ctx)
        return path


FileArg = RegularFile(path_type=Path, dir_okay=False)
FileOrFolderArg = RegularFile(path_type=Path, exists=False)
workspace_option = click.option(
    "--home",
    type=click.Path(path_type=Path, file_okay=False),
    help="Workspace folder (default: $GENAI_PROVENANCE_HOME, else ~/.local/share/genai-provenance).",
)


def _use_ledger(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    from genai_provenance.settings import use_ledger

    use_ledger(value)


ledger_option = click.option(
    "--ledger",
    metavar="URL|FILE",
    expose_value=False,
    callback=_use_ledger,
    help="The clearance ledger: postgresql://user@host/db or an SQLite file; "
    "else $GENAI_PROVENANCE_LEDGER, else the workspace's.",
)


def _use_config(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    from genai_provenance.settings import use_config

    if value is not None:  # a subcommand's --config replaces the global one; its absence keeps it
        use_config(value)


config_option = click.option(
    "--config",
    type=FileArg,
    expose_value=False,
    is_eager=True,
    callback=_use_config,
    help="The signing profile (TOML); else $GENAI_PROVENANCE_CONFIG, else the workspace's config.toml.",
)


def home_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--home, --ledger and --config: every command that opens the ledger takes all three."""
    return workspace_option(ledger_option(config_option(fn)))


format_option = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
)
policy_option = click.option(
    "--policy",
    type=FileArg,
    help="A studio policy file (YAML or JSON), or 'default' for the built-in one (default).",
)
trust_option = click.option(
    "--trust", type=FileArg, help="Trust anchors (PEM) for media signers; default: the workspace's."
)
approver_trust_option = click.option(
    "--approver-trust", type=FileArg, help="Approver roots (PEM) for clearances; default: the workspace's."
)


def trust_options(*, packager: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The trust flags (named as c2patool's), gathered into one `trust_flags: TrustFlags` argument.

    Each falls back to its environment variable, then to the workspace's trust/ folder (trust.py).
    """
    from genai_provenance.trust.config import TrustFlags

    options = [
        click.option(
            "--trust-anchors",
            "--trust",
            "trust",
            type=FileArg,
            help="Media-signer trust anchors (PEM); else $GENAI_PROVENANCE_TRUST_ANCHORS, else the workspace's.",
        ),
        approver_trust_option,
        click.option(
            "--allowed-list",
            type=FileArg,
            help="End-entity certificates (PEM) trusted without an anchor; else $GENAI_PROVENANCE_ALLOWED_LIST.",
        ),
        click.option(
            "--trust-config",
            type=FileArg,
            help="EKU OIDs a media signer must carry, one per line; else $GENAI_PROVENANCE_TRUST_CONFIG.",
        ),
        click.option(
            "--tsa-trust",
            type=FileArg,
            help="Time-stamp authority roots (PEM); else $GENAI_PROVENANCE_TSA_TRUST, else the workspace's.",
        ),
    ]
    if packager:
        options.append(
            click.option(
                "--packager-trust", type=FileArg, help="Roots (PEM) trusted to sign package reports; default: workspace"
            )
        )

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs["trust_flags"] = TrustFlags(
                anchors=kwargs.pop("trust"),
                approver=kwargs.pop("approver_trust"),
                packager=kwargs.pop("packager_trust", None),
                tsa=kwargs.pop("tsa_trust"),
                allowed_list=kwargs.pop("allowed_list"),
                trust_config=kwargs.pop("trust_config"),
            )
            return fn(*args, **kwargs)

        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate


signers_option = click.option(
    "--signers",
    type=FileArg,
    help="Identities allowed to sign final deliverables (YAML/JSON list); replaces the policy's signers.",
)
revocations_option = click.option(
    "--revocations",
    type=FileArg,
    help="A signed revocation list (revocations export); default: the one imported into the workspace.",
)
ignores_option = click.option(
    "--no-default-ignores",
    "no_default_ignores",
    is_flag=True,
    help="Also consider .DS_Store, ._* and Thumbs.db in folders (ignored, and listed, by default).",
)
allow_remote_option = click.option(
    "--allow-remote", is_flag=True, help="Fetch remote manifests over the network (off by default)."
)


def _cores() -> int:
    from genai_provenance.gate.pool import default_workers

    return default_workers()


workers_option = click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=_cores,
    show_default="the machine's cores",
    help="Parallel checks (results and their order are the same for any number).",
)


def cluster_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--cluster and --cluster-timeout, gathered into one `cluster: ClusterTarget | None` argument."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        address, timeout = kwargs.pop("cluster"), kwargs.pop("cluster_timeout")
        insecure = kwargs.pop("insecure_cluster")
        kwargs["cluster"] = None
        if address:
            from genai_provenance.gate.cluster import ClusterTarget

            try:
                kwargs["cluster"] = ClusterTarget(address, timeout, insecure)
            except ProvenanceError as exc:
                raise click.UsageError(str(exc)) from None
        return fn(*args, **kwargs)

    options = [
        click.option(
            "--cluster",
            metavar="tcp://HOST:PORT",
            help="Check on this Dask scheduler's workers (files at the same path on every worker); "
            "needs genai-provenance[cluster].",
        ),
        click.option(
            "--cluster-timeout",
            type=float,
            default=10.0,
            show_default=True,
            envvar="GENAI_PROVENANCE_CLUSTER_TIMEOUT",
            metavar="SECONDS",
            help="How long to wait for the scheduler, a worker, or a cluster that lost every worker.",
        ),
        click.option(
            "--insecure-cluster",
            "insecure_cluster",
            is_flag=True,
            help="Let package check on a tcp:// cluster, whose workers are not authenticated (default: tls:// only).",
        ),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


report_output_option = click.option(
    "-o", "--output", "output", type=FileArg, help="Write the report to FILE (whole or not at all), not stdout."
)


def report_format_option(junit: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    choices = ["text", "json", "junit"] if junit else ["text", "json"]
    return click.option(
        "--format", "fmt", type=click.Choice(choices), default="text", show_default=True, help="Output format."
    )


def view_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--verbose, --only-failures, --quiet, gathered into one `view` argument (reports/console.View)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from genai_provenance.reports.console import terminal_view

        kwargs["view"] = terminal_view(
            verbose=kwargs.pop("verbose"),
            only_failures=kwargs.pop("only_failures"),
            quiet=kwargs.pop("quiet"),
            to_file=kwargs.get("output") is not None,
        )
        return fn(*args, **kwargs)

    options = [
        click.option("--verbose", "-v", is_flag=True, help="Every asset in detail (no table)."),
        click.option("--only-failures", is_flag=True, help="Only assets that do not pass."),
        click.option("--quiet", "-q", is_flag=True, help="Only the summary and a line per failing asset."),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def emit(text: str, output: Path | None = None) -> None:
    """The report on stdout, or written whole to `output` (nothing on stdout then)."""
    if output is None:  # colour only ever comes from the view (every other ESC is escaped): click must keep it
        click.echo(text.rstrip("\n"), color=True)
        return
    from genai_provenance.files import write_text

    write_text(output, text if text.endswith("\n") else text + "\n")


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """One line on stderr: control characters escaped (a file name may hold ESC), never a traceback."""
    click.echo(f"genai-provenance: error: {one_line(message)}", err=True)
    sys.exit(code)


def handled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one-line messages and exit codes; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except BaseException as exc:
            _show_cause(exc)
            raise

    return _one_line_errors(wrapper)


def _show_cause(exc: BaseException) -> None:
    """`genai-provenance --verbose ...`: the underlying exception, for a bug report; hidden otherwise."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.find_root().params.get("verbose"):
        import traceback  # (linecache and tokenize: only for --verbose)

        click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)


def _one_line_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ProvenanceError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted; nothing partial was left behind", 130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except RecursionError:
            fail("input nested too deeply to process")
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{os_problem(exc)}")
        except Exception as exc:
            fail(f"unexpected {exc.__class__.__name__}: {clip(str(exc))}")

    return wrapper


class OneLineErrors(click.Group):
    """Usage errors (bad option values, missing arguments) as one line too, not click's usage block."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("standalone_mode", True):
            return super().main(*args, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
            fail(" ".join(exc.format_message().split()) + where, exc.exit_code)
        except click.ClickException as exc:
            fail(" ".join(exc.format_message().split()), exc.exit_code)
        except click.exceptions.Abort:
            fail("aborted", EXIT_FAILED)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


# Command name -> the module that registers it; a module is imported only when one of its
# commands runs (or for --help), which keeps every command's start-up short.
_COMMAND_MODULES = {
    "init": "core",
    "sign": "core",
    "verify": "verify",
    "demo": "core",
    "approvals": "clearances",
    "consents": "clearances",
    "revocations": "clearances",
    "waivers": "waivers",
    "check": "check",
    "preflight": "check",
    "package": "package",
    "verify-package": "package",
    "explain": "explain",
    "verify-report": "explain",
}


class LazyCommands(OneLineErrors):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(_COMMAND_MODULES) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in _COMMAND_MODULES:
            importlib.import_module(f"genai_provenance.cli.{_COMMAND_MODULES[name]}")
        return super().get_command(ctx, name)


@click.group(cls=LazyCommands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="genai-provenance")
@click.option("--verbose", is_flag=True, help="On an error, also show the underlying exception (for a bug report).")
@click.option(
    "--config",
    type=FileArg,
    help="The signing profile (TOML) for every command; else $GENAI_PROVENANCE_CONFIG, else <workspace>/config.toml.",
)
def main(verbose: bool, config: Path | None) -> None:
    """Signed GenAI disclosures (C2PA Content Credentials) for film and TV production."""
    from genai_provenance.settings import use_config, use_ledger

    use_ledger(None)  # a --ledger of an earlier in-process call never carries over (the subcommand sets its own)
    use_config(config)
