package org.modnet.api.net;

/** {@code ethtool -g}: the receive and transmit ring sizes, now and at most. */
public record RingParams(int rx, int rxMax, int tx, int txMax) {
}
