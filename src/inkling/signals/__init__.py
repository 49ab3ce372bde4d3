"""Readings: what the evidence says about a message, in numbers and in one honest sentence."""
