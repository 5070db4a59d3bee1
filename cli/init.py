"""`leadcap init`: ask for the campaign's facts, write `campaign.json` and `.env` (0600).

The I/O edge of leadcap.ops.launch: the questions (Rich prompts, asked again after a bad
answer), the campaign checked by the very function `serve` checks its file with, and files that
appear whole or not at all and never replace one that is there without `--force`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.prompt import Prompt

from cli.files import written_aside
from cli.runner import EX_USAGE, err, fail, out
from leadcap.errors import ConfigError, LeadcapError, UsageError
from leadcap.ops import launch
from web import campaign  # serve's own check of the campaign file, so both agree on every field


def _option(metavar: str, help: str) -> Any:  # noqa: A002 - Typer's word
    return typer.Option(metavar=metavar, help=help, show_default=False)


def init_command(
    locale: Annotated[str | None, _option("fa|en", "The page's language (default fa).")] = None,
    brand: Annotated[str | None, _option("TEXT", "The brand, also the company's name on the page.")] = None,
    phone: Annotated[str | None, _option("TEXT", "The business phone, Iranian: 021 9100 1234.")] = None,
    address: Annotated[str | None, _option("TEXT", "The address in the page's footer.")] = None,
    hours: Annotated[str | None, _option("TEXT", f"Business hours: '{launch.HOURS_EXAMPLE}'.")] = None,
    domain: Annotated[str | None, _option("HOST", "The host name of the site: example.ir.")] = None,
    privacy_url: Annotated[
        str | None, _option("URL", "The privacy policy, https:// (default https://DOMAIN/privacy).")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Ask nothing: what no option gives takes its default.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace campaign.json and .env if they are there.")
    ] = False,
) -> None:
    """Make the page yours: write campaign.json and .env (mode 0600, every secret generated) here.

    Asks for what no option gives (again after a bad answer); replaces a file only with --force.

    No questions: leadcap init --yes --brand Acme --phone '021 9100 1234' --domain acme.ir
    """
    folder = Path.cwd()
    targets = [folder / launch.CAMPAIGN_FILE, folder / launch.ENV_FILE]
    there = [p.name for p in targets if p.exists() or p.is_symlink()]
    if there and not force:
        raise _exists(there)
    given = {"locale": locale, "brand": brand, "phone": phone, "address": address, "hours": hours}
    given |= {"domain": domain, "privacy_url": privacy_url}
    template = json.loads(campaign.DEFAULT_FILE.read_text(encoding="utf-8"))
    if not yes and None in given.values():
        out.print("Enter takes the answer in parentheses; the answers go into campaign.json and .env here.")
    answers = launch.Answers(**_answers(given, template, ask=not yes))
    document = launch.campaign_document(answers, template)
    try:
        campaign.parse(document)
    except ConfigError as exc:  # the template and the readers disagree with serve: a bug, said plainly
        raise fail(f"the campaign would not be accepted by serve: {exc.message}") from None
    generated = launch.new_secrets()
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    _write(targets[0], text, 0o644, force=force)  # read by the web container's user too
    _write(targets[1], launch.env_text(answers, generated), 0o600, force=force)
    out.print(
        f"wrote {launch.CAMPAIGN_FILE} ({escape(answers.brand)}) and {launch.ENV_FILE}"
        f" (mode 0600, {len(generated)} generated secrets). Next:",
        highlight=False,
        soft_wrap=True,
    )
    out.print("  leadcap serve                     # your page at http://127.0.0.1:8000/", highlight=False)
    out.print("  curl -s http://127.0.0.1:8000/    # shows your brand", highlight=False)


def _answers(given: dict[str, str | None], template: Any, *, ask: bool) -> dict[str, Any]:
    """Each question's value: from its option (a bad one is a usage error), else asked (again
    until it reads), else (--yes) its default."""
    values: dict[str, Any] = {}
    for question in launch.QUESTIONS:
        text = given[question.key]
        fallback = launch.default(question.key, template, values)
        if text is not None or not ask:
            try:
                values[question.key] = question.read(fallback if text is None else text)
            except UsageError as exc:
                raise fail(exc.message, EX_USAGE) from None
            continue
        while question.key not in values:
            try:
                answer = Prompt.ask(escape(question.prompt), default=fallback, console=out)
            except EOFError:  # stdin ended before every question had its answer
                raise fail(
                    f"no answer for {question.option} (input ended); --yes takes the defaults", EX_USAGE
                ) from None
            try:
                values[question.key] = question.read(answer)
            except UsageError as exc:
                err.print(
                    f"[bold red]error:[/] {escape(exc.message)}; try again", highlight=False, soft_wrap=True
                )
    return values


def _exists(names: list[str]) -> typer.Exit:
    return fail(
        f"{' and '.join(names)} already exist{'s' if len(names) == 1 else ''} here; --force replaces",
        EX_USAGE,
    )


def _write(path: Path, text: str, mode: int, *, force: bool) -> None:
    """`path` appears whole, with `mode` from its first byte, or not at all; without `force` it
    never replaces a file."""
    try:
        with written_aside(path, mode, replace=force) as file:
            file.write(text)
    except FileExistsError:
        raise _exists([path.name]) from None
    except LeadcapError as exc:
        raise fail(exc.message) from None
