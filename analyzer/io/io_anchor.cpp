// Translation unit anchor for the io library; real sources live beside it.
