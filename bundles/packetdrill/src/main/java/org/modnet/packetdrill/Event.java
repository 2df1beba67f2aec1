package org.modnet.packetdrill;

/** One timed line of a script: the line its time column is on, the time, and what happens then. */
public record Event(int line, EventTime time, Action action) {
}
