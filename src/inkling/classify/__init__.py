"""Telling people from machines: a verdict, an agent and reasons for every hit."""

from inkling.classify.classifier import Classifier, classify_hits
from inkling.classify.hit import Hit, Judgement

__all__ = ["Classifier", "Hit", "Judgement", "classify_hits"]
