"""``python -m contracts.server``: serve with the settings in $ORDERS_CONTRACT_SERVER_SETTINGS (launcher)."""

from __future__ import annotations

import os

import orjson

from ._launch import SETTINGS_ENV, serve
from ._settings import ServerSettings


def main() -> None:
    raw = os.environ.get(SETTINGS_ENV)
    settings = ServerSettings.from_json_dict(orjson.loads(raw)) if raw else ServerSettings()
    serve(settings)


if __name__ == "__main__":
    main()
