// Translation unit anchor for the stats library; real sources live beside it.
