"""What the generated calls are made of: task kinds, tool schemas, client strings.

Everything here is shared by campaign and honest accounts alike. A campaign is told
apart by how it combines these (one schema across thousands of accounts, a narrow
mix, lockstep timing), never by a value only campaigns use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Kind:
    """One kind of task, with the shape of the calls that carry it."""

    name: str
    tools: bool = False
    # Probabilities of reasoning modes none / enabled / adaptive / low / medium / high.
    reasoning: tuple[float, ...] = (0.85, 0.05, 0.04, 0.02, 0.02, 0.02)
    images: tuple[int, int] = (0, 0)
    input_tokens: tuple[float, float] = (6.5, 1.0)  # lognormal mu, sigma
    output_tokens: tuple[float, float] = (5.8, 0.9)
    messages: tuple[int, int] = (1, 8)
    flags: tuple[str, ...] = ()
    prompt_chars: tuple[float, float] = (5.5, 1.0)


THINKING = (0.0, 0.55, 0.15, 0.0, 0.1, 0.2)

KINDS: tuple[Kind, ...] = (
    Kind("chat"),
    Kind("coding", input_tokens=(7.3, 1.0), output_tokens=(6.6, 0.8), flags=("code",)),
    Kind(
        "agentic_coding",
        tools=True,
        input_tokens=(9.3, 0.8),
        output_tokens=(7.0, 0.7),
        messages=(6, 80),
        flags=("code", "agentic"),
    ),
    Kind("tool_use", tools=True, input_tokens=(7.8, 0.9), messages=(3, 30), flags=("agentic",)),
    Kind("data_analysis", input_tokens=(8.0, 1.0), output_tokens=(6.4, 0.8), flags=("data",)),
    Kind(
        "computer_use",
        tools=True,
        images=(1, 3),
        input_tokens=(8.8, 0.6),
        messages=(4, 40),
        flags=("computer_use",),
    ),
    Kind("vision", images=(1, 4), input_tokens=(7.6, 0.7), flags=("vision",)),
    Kind("reasoning", reasoning=THINKING, output_tokens=(7.2, 0.8), flags=("reasoning",)),
    Kind(
        "cot_elicitation",
        reasoning=THINKING,
        output_tokens=(7.4, 0.6),
        messages=(1, 3),
        flags=("cot_elicitation",),
    ),
    Kind(
        "rubric_grading",
        reasoning=(0.4, 0.4, 0.1, 0.0, 0.1, 0.0),
        input_tokens=(7.4, 0.6),
        output_tokens=(5.5, 0.6),
        messages=(1, 2),
        flags=("rubric_grading",),
    ),
    Kind("safe_rewrite", reasoning=THINKING, messages=(1, 2), flags=("sensitive_rewrite",)),
    Kind("synthetic_data", input_tokens=(6.8, 0.5), output_tokens=(6.6, 0.5), messages=(1, 2)),
)
KIND_INDEX = {kind.name: i for i, kind in enumerate(KINDS)}

REASONING_MODES = ("none", "enabled", "adaptive", "low", "medium", "high")

# Popular tool schemas: coding agents, agent frameworks, orchestrators. The first
# ones are used by thousands of honest accounts, and by MiniMax-like accounts too.
POPULAR_TOOL_SETS: tuple[tuple[str, ...], ...] = (
    ("bash", "str_replace_based_edit_tool", "read_file", "glob", "grep", "todo_write"),
    ("run_terminal_cmd", "edit_file", "read_file", "list_dir", "codebase_search"),
    ("search", "fetch_url", "python_repl", "final_answer"),
    ("create_task", "delegate_to_agent", "update_plan", "read_file", "finish"),
    ("execute_python", "write_file", "read_file"),
    ("web_search", "calculator", "retrieve_documents"),
    ("run_sql", "plot_chart", "describe_table"),
    ("computer", "bash", "str_replace_based_edit_tool"),
)
COMPUTER_TOOL_SET = 7
DATA_TOOL_SET = 6

MODELS_PROVIDER = "anthropic"

# Client strings with rough popularity; MiniMax-like accounts send the most common one.
USER_AGENTS: tuple[tuple[str, float], ...] = (
    ("anthropic-python/0.75.0", 0.22),
    ("anthropic-python/0.72.1", 0.08),
    ("anthropic-typescript/0.68.0", 0.15),
    ("claude-cli/2.0.14 (external, cli)", 0.10),
    ("OpenAI/Python 1.109.1", 0.06),
    ("litellm/1.77.3", 0.07),
    ("langchain-anthropic/0.3.22", 0.07),
    ("python-httpx/0.28.1", 0.05),
    ("axios/1.12.2", 0.04),
    ("Go-http-client/2.0", 0.04),
    ("curl/8.5.0", 0.03),
    ("anthropic-java/2.9.0", 0.03),
    ("Boto3/1.40.45 md/Botocore#1.40.45 ua/2.1 os/linux", 0.03),
    ("okhttp/4.12.0", 0.03),
)
USER_AGENT_NAMES = tuple(name for name, _ in USER_AGENTS)
USER_AGENT_WEIGHTS = np.array([w for _, w in USER_AGENTS]) / sum(w for _, w in USER_AGENTS)
COMMON_USER_AGENT = 0

COUNTRIES: tuple[tuple[str, float], ...] = (
    ("US", 0.34),
    ("IN", 0.08),
    ("GB", 0.07),
    ("DE", 0.06),
    ("FR", 0.04),
    ("CA", 0.04),
    ("BR", 0.04),
    ("JP", 0.04),
    ("KR", 0.03),
    ("SG", 0.03),
    ("AU", 0.03),
    ("NL", 0.03),
    ("ES", 0.02),
    ("IT", 0.02),
    ("PL", 0.02),
    ("SE", 0.02),
    ("IL", 0.02),
    ("MX", 0.02),
    ("TW", 0.02),
    ("CH", 0.02),
    ("NG", 0.01),
    ("ID", 0.01),
    ("VN", 0.01),
)
COUNTRY_CODES = tuple(code for code, _ in COUNTRIES)
COUNTRY_WEIGHTS = np.array([w for _, w in COUNTRIES]) / sum(w for _, w in COUNTRIES)
# Hours east of UTC, rounded, per country (the account's working day).
COUNTRY_TZ = np.array(
    [-6, 5, 0, 1, 1, -5, -3, 9, 9, 8, 10, 1, 1, 1, 1, 1, 2, -6, 8, 1, 1, 7, 7], dtype=np.int64
)

FREE_MAIL: tuple[tuple[str, float], ...] = (
    ("gmail.com", 0.62),
    ("outlook.com", 0.12),
    ("yahoo.com", 0.07),
    ("hotmail.com", 0.06),
    ("proton.me", 0.05),
    ("icloud.com", 0.05),
    ("qq.com", 0.015),
    ("163.com", 0.015),
)

# New programs go at the end: accounts store a program's index.
PROGRAMS = ("standard", "edu", "startup", "research", "enterprise", "reseller")

ERROR_STATUSES = np.array([429, 500, 529, 400], dtype=np.int64)
