"""Synthetic traffic: the three disclosed campaigns inside realistic honest traffic.

>>> from synth import Scenario, build_plan
>>> build_plan(Scenario(scale=0.001)).volumes()["deepseek"]
150
"""

from synth.generate import generate
from synth.plan import build_plan
from synth.replay import replay
from synth.scenario import Scenario

__all__ = ["Scenario", "build_plan", "generate", "replay"]
