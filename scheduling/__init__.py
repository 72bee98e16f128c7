"""Background work: the delivery loop and APScheduler's periodic jobs."""
