package org.modnet.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** tracepath's lines as iputils 20221126 printed them through Linux namespaces (a - r - b, 1400 on r's far link). */
class TracepathFormatTest {
    @Test
    void theLocalhostLineAndHopLinesLineUpAsIputils() {
        assertEquals(" 1?: [LOCALHOST]                      pmtu 1500", TracepathCommand.localhost(1, 1500));
        assertEquals(" 1:  10.1.0.2                                              0.081ms ",
                TracepathCommand.hop(1, 0x0a010002, false, 81_000));
        assertEquals(" 2:  10.1.0.2                                              0.011ms pmtu 1400",
                TracepathCommand.hop(2, 0x0a010002, false, 11_400) + "pmtu 1400");
        assertEquals(" 2:  10.2.0.2 (10.2.0.2)                                  12.345ms reached",
                TracepathCommand.hop(2, 0x0a020002, true, 12_345_000) + "reached");
    }

    @Test
    void backCountsHopsFromTheAnswersTtl() {
        assertEquals(1, TracepathCommand.back(64));
        assertEquals(2, TracepathCommand.back(63));
        assertEquals(3, TracepathCommand.back(126));
        assertEquals(1, TracepathCommand.back(255));
    }
}
