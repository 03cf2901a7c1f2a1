// Translation unit anchor for the report library; real sources live beside it.
