"""socialaudit: audits social-media accounts against the Alliance for CME guidelines."""
