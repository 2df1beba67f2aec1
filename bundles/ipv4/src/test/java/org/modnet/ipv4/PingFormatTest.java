package org.modnet.ipv4;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** ping's numbers as iputils prints them. */
class PingFormatTest {
    @Test
    void roundTripTimesKeepIputilsPrecision() {
        assertEquals("0.045", PingCommand.rtt(0.045));
        assertEquals("1.23", PingCommand.rtt(1.234), "two decimals from 1 ms");
        assertEquals("9.99", PingCommand.rtt(9.994));
        assertEquals("12.3", PingCommand.rtt(12.34), "one from 10 ms");
        assertEquals("123", PingCommand.rtt(123.4), "none from 100 ms");
    }
}
