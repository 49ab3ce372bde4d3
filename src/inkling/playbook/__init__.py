"""The playbook: one recommendation per open ticket, on the team's business-hours clock."""
