// Translation unit anchor for the audit library; real sources live beside it.
