"""Questions about the offers answered in free text: matching, answers, staff-edited content."""
