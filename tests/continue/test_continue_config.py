"""continue-config/config.yaml as Continue reads it, and Continue's CLI against `quill serve`.

* The config is parsed and validated by Continue's own schema package
  (``@continuedev/config-yaml``), and no key in it is one that Continue drops.
* ``cn -p`` (``@continuedev/cli``), with its home in a temporary folder and the token given as
  the secret ``CONTINUE_QUILL_TOKEN`` in its ``.env``, asks a running ``quill serve`` (the
  embedded model) about a function of the workspace. cn runs in another, empty folder and
  calls no tool, so the function's return value can reach the model only through the
  context Quill adds. The same question with ``quill.context`` turned off (through the
  config's ``requestOptions.extraBodyProperties``) is the control: Quill counts fewer
  prompt tokens for it, and its answer lacks the value.
* cn does not use context providers, so the ``http`` context provider is exercised with
  the request Continue's ``HttpContextProvider`` sends: ``POST params.url`` with
  ``Content-Type: application/json`` plus ``params.headers``, and the body
  ``{query, fullInput, options, workspacePath}`` (``options`` is left out when the config
  has none, as ``JSON.stringify`` leaves out undefined values).
* The autocomplete model's FIM prompt, in the template Continue picks for the model name
  ``quill`` (``<fim_prefix>…<fim_suffix>…<fim_middle>``), goes through Quill's completion
  pipeline.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO_ROOT, clean_environment
from tests.quill_serve import quill_serve

CONFIG = REPO_ROOT / "continue-config" / "config.yaml"
CLI_DIR = REPO_ROOT / "tests" / "continue" / "cli"
HELPER = CLI_DIR / "continue-config.mjs"
CN = CLI_DIR / "node_modules" / "@continuedev" / "cli" / "dist" / "cn.js"
SECRET = "CONTINUE_QUILL_TOKEN"
DEFAULT_BASE = "http://127.0.0.1:8765"
NODE = "node"  # Node 20, as on every machine the project supports

FUNCTION = "zorblax_tide_limit"
VALUE = "48213"
HARBOR = f'''"""Harbor tides."""

ZORBLAX_TIDE_LIMIT = {VALUE}


def {FUNCTION}() -> int:
    """The highest tide the harbor allows, in millimetres."""
    return ZORBLAX_TIDE_LIMIT
'''
QUESTION = f"What number does {FUNCTION} return?"


def continue_check(path: Path) -> dict[str, Any]:
    """What Continue's config package makes of ``path`` (see cli/continue-config.mjs)."""
    assert CN.exists(), "Continue's CLI is missing: run `make continue-cli`"
    done = subprocess.run(
        [NODE, str(HELPER), "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip(), done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    assert done.returncode == (0 if result["ok"] else 1), done.stderr
    return result


def render_config(out: Path, base: str, *flags: str) -> Path:
    subprocess.run(
        [NODE, str(HELPER), "render", str(CONFIG), str(out), base, *flags],
        check=True,
        timeout=60,
    )
    return out


# --------------------------------------------------------------------------- the config


def test_the_config_is_valid_for_continue() -> None:
    result = continue_check(CONFIG)
    assert result["ok"], result
    config = result["config"]
    assert config["version"] == "1.0.0" and config["schema"] == "v1"
    models = config["models"]
    roles = {role: m for m in models for role in m["roles"]}
    assert {"chat", "edit", "autocomplete"} <= roles.keys()
    for model in models:
        assert model["provider"] == "openai" and model["model"] == "quill"
        assert model["apiBase"] == f"{DEFAULT_BASE}/v1"
        assert model["apiKey"] == f"${{{{ secrets.{SECRET} }}}}"
    # Continue's default of 150 ms would drop every completion of a CPU model
    assert roles["autocomplete"]["autocompleteOptions"]["modelTimeout"] >= 1000
    (http,) = [c for c in config["context"] if c["provider"] == "http"]
    params = http["params"]
    # the parameters Continue's HttpContextProvider reads (core/context/providers/)
    known = {"url", "title", "displayTitle", "description", "renderInlineAs", "headers", "options"}
    assert params.keys() <= known, params.keys() - known
    assert params["url"] == f"{DEFAULT_BASE}/context"
    assert params["headers"] == {"Authorization": f"Bearer ${{{{ secrets.{SECRET} }}}}"}


def test_the_check_fails_on_what_continue_would_reject_or_drop(tmp_path: Path) -> None:
    text = CONFIG.read_text()
    numeric = tmp_path / "numeric.yaml"
    numeric.write_text(text.replace('version: "1.0.0"', "version: 1"))
    result = continue_check(numeric)
    assert not result["ok"] and "version" in result["errors"][0]
    misspelt = tmp_path / "misspelt.yaml"
    misspelt.write_text(text.replace("    roles:\n", "    rols:\n", 1))
    result = continue_check(misspelt)
    assert not result["ok"] and result["dropped"] == ["models[0].rols"], result


# --------------------------------------------------------------------------- quill serve


@dataclass
class Served:
    base: str
    token: str
    workspace: Path
    tmp: Path

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def metrics(self) -> str:
        response = httpx.get(f"{self.base}/metrics", headers=self.auth, timeout=30)
        assert response.status_code == 200
        return response.text

    def context(self, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        return httpx.post(f"{self.base}/context", content=json.dumps(body), headers=headers)


def metric(text: str, name: str, **labels: str) -> float:
    """One sample of a Prometheus text exposition (0 when absent)."""
    for line in text.splitlines():
        found = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$", line)
        if not found or found.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', found.group(2) or ""))
        if have == labels:
            return float(found.group(3))
    return 0.0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("continue")
    workspace = tmp / "harbor"
    workspace.mkdir()
    (workspace / "harbor.py").write_text(HARBOR)
    env = clean_environment(tmp)
    # short, deterministic answers keep the test fast and its control meaningful
    env["QUILL_CHAT__MAX_TOKENS"] = "48"
    env["QUILL_CHAT__TEMPERATURE"] = "0"
    token_file = tmp / "kept" / "gateway.token"
    with quill_serve(workspace, env, tmp / "serve.log", token_file=token_file) as serving:
        here = Served(serving.base, token_file.read_text().strip(), workspace, tmp)
        # the index is built in the background: wait until it knows the function
        deadline = time.monotonic() + 60
        while True:
            items = here.context({"query": FUNCTION}, here.auth).json()
            if any(FUNCTION in item["name"] for item in items):
                break
            assert time.monotonic() < deadline, items
            time.sleep(0.2)
        yield here
        serving.proc.send_signal(signal.SIGTERM)
        assert serving.proc.wait(timeout=30) == 0


# --------------------------------------------------------------------------- cn


def run_cn(served: Served, name: str, *flags: str) -> str:
    """``cn -p QUESTION`` with this config, its home in ``served.tmp/name``; its answer."""
    home = served.tmp / name
    continue_dir = home / ".continue"
    continue_dir.mkdir(parents=True)
    (continue_dir / ".env").write_text(f"{SECRET}={served.token}\n")
    os.chmod(continue_dir / ".env", 0o600)
    cwd = home / "elsewhere"  # not Quill's workspace: cn cannot read harbor.py itself
    cwd.mkdir()
    config = render_config(home / "config.yaml", served.base, *flags)
    env = {k: v for k, v in os.environ.items() if k != SECRET}
    env.update(
        HOME=str(home),
        CONTINUE_GLOBAL_DIR=str(continue_dir),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_STATE_HOME=str(home / "state"),
        CONTINUE_CLI_ENABLE_TELEMETRY="0",
        CONTINUE_METRICS_ENABLED="0",
        NO_COLOR="1",
    )
    done = subprocess.run(
        [NODE, str(CN), "-p", QUESTION, "--config", str(config)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sessions = [p for p in (continue_dir / "sessions").glob("*.json") if p.name != "sessions.json"]
    (session,) = sessions
    history = json.loads(session.read_text())["history"]
    roles = [item["message"]["role"] for item in history]
    assert roles == ["user", "assistant"], history  # no tool ran
    assert not history[1]["message"].get("toolCalls"), history
    return done.stdout


def test_cn_answers_with_quills_context(served: Served) -> None:
    def prompt_tokens() -> float:
        return metric(
            served.metrics(), "quill_gateway_tokens_total", feature="openai_chat", kind="prompt"
        )

    refused = metric(served.metrics(), "quill_gateway_refused_total", code="unauthorized")
    before = prompt_tokens()
    answer = run_cn(served, "with-context")
    with_context = prompt_tokens() - before
    before = prompt_tokens()
    control = run_cn(served, "without-context", "--no-context")
    without_context = prompt_tokens() - before

    text = served.metrics()
    ok = metric(
        text,
        "quill_gateway_requests_total",
        route="/v1/chat/completions",
        method="POST",
        status="200",
    )
    assert ok == 2  # both cn runs reached Quill with the token from Continue's .env
    assert metric(text, "quill_gateway_refused_total", code="unauthorized") == refused
    # Quill added its context (the function's code) to cn's question, and only when asked to
    assert with_context - without_context >= 20, (with_context, without_context)
    assert VALUE in answer, answer
    assert VALUE not in control, control


# --------------------------------------------------------------------------- http provider


def continue_headers(served: Served) -> dict[str, str]:
    """The headers Continue's HttpContextProvider sends with this config's params."""
    (http,) = [c for c in continue_check(CONFIG)["config"]["context"] if c["provider"] == "http"]
    headers = {"Content-Type": "application/json"}
    for key, value in http["params"]["headers"].items():
        headers[key] = value.replace(f"${{{{ secrets.{SECRET} }}}}", served.token)
    assert http["params"]["url"] == f"{DEFAULT_BASE}/context"
    return headers


def test_the_http_context_provider_request(served: Served) -> None:
    headers = continue_headers(served)
    # a "normal" provider gets no query; the user's message is fullInput
    body = {"query": "", "fullInput": QUESTION, "workspacePath": str(served.workspace)}
    response = served.context(body, headers)
    assert response.status_code == 200, response.text
    items = response.json()
    assert all(set(item) == {"name", "description", "content"} for item in items), items
    (item,) = [i for i in items if FUNCTION in i["name"]]
    assert "harbor.py" in item["name"] and f"def {FUNCTION}" in item["content"]
    assert any(VALUE in i["content"] for i in items), items  # the constant, from the repo map
    # workspacePath is left out for a file outside every workspace folder
    del body["workspacePath"]
    assert any(FUNCTION in i["name"] for i in served.context(body, headers).json())
    # another project gets nothing; no header, no answer
    other = {**body, "workspacePath": str(served.tmp / "other-project")}
    assert served.context(other, headers).json() == []
    assert served.context(body, {"Content-Type": "application/json"}).status_code == 401


# --------------------------------------------------------------------------- autocomplete


def test_continues_fim_prompt_goes_through_quills_completion_pipeline(served: Served) -> None:
    before = metric(served.metrics(), "quill_completion_requests")
    prefix = "# Path: harbor.py\n" + HARBOR.split("return ")[0] + "return "
    prompt = f"<fim_prefix>{prefix}<fim_suffix>\n<fim_middle>"
    body = {
        "model": "quill",
        "prompt": prompt,
        "max_tokens": 16,
        "temperature": 0.01,
        "stop": ["<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>", "<|endoftext|>"],
        "stream": True,
    }
    response = httpx.post(
        f"{served.base}/v1/completions", json=body, headers=served.auth, timeout=60
    )
    assert response.status_code == 200, response.text
    events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    text = "".join(c["choices"][0]["text"] for c in chunks)
    assert "<fim_" not in text
    assert metric(served.metrics(), "quill_completion_requests") == before + 1
