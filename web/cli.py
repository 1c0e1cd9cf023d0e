"""The ``duban`` console script: the engine's commands plus ``serve``."""
from __future__ import annotations

import click

from engine.cli import Context, _guard, cli, pass_ctx


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--tick", default=1.0, show_default=True, type=float,
              help="seconds between job ticks; 0 to leave jobs to `duban worker`")
@pass_ctx
@_guard
def serve(ctx: Context, host: str, port: int, tick: float) -> None:
    """Run the web server on this machine (migrates the database first)."""
    from engine.scheduler import start_in_background
    from web import create_app

    ctx.engine.migrate()
    app = create_app({"ENGINE": ctx.engine})
    if tick > 0:
        start_in_background(ctx.engine, tick)
    click.echo(f"duban is serving on http://{host}:{port}/")
    app.run(host=host, port=port, threaded=True, use_reloader=False)


def main() -> None:
    cli(prog_name="duban")


if __name__ == "__main__":
    main()
