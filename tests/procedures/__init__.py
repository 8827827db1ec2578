"""Scenario tests of the executable procedure models in bpmn/ (through the services layer)."""
