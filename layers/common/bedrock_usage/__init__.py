"""Bedrock Usage Monitor: collect, price, analyse, render and deliver Amazon Bedrock usage."""

__version__ = "0.1.0"
