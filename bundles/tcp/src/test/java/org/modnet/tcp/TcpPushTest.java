package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Push marks over the send ring: where Linux's write queue would have skbs that end with PSH. */
class TcpPushTest {
    @Test
    void aSegmentEndingAtAWriteBoundaryIsMarkedAndNoSegmentRunsAcrossOne() {
        TcpPush p = new TcpPush();
        p.clear(1);
        p.mark(1001);
        p.mark(3001);
        assertTrue(p.marked(1001));
        assertTrue(p.marked(3001));
        assertFalse(p.marked(2001));
        assertEquals(1000, p.limit(1, 1448), "cut at the first write's end");
        assertEquals(1448, p.limit(1001, 1448));
        assertEquals(2000, p.limit(1001, 5000));
    }

    @Test
    void aWriteThatAppendsToUnsentDataTakesItsMarkAway() {
        TcpPush p = new TcpPush();
        p.clear(1);
        p.mark(501);
        p.append(501, 1); // nothing sent yet: Linux's tail skb grows and loses PSH
        assertFalse(p.marked(501));
        p.mark(1001);
        p.append(1001, 1001); // all of it sent: the next write starts a new skb, the mark stays
        assertTrue(p.marked(1001));
    }

    @Test
    void marksGoWhenAcknowledgedAndTheOldestGoesWhenTheRingIsFull() {
        TcpPush p = new TcpPush();
        p.clear(0);
        for (int i = 1; i <= TcpPush.MAX_MARKS + 2; i++) {
            p.mark(i * 100);
        }
        assertEquals(2, p.dropped);
        assertFalse(p.marked(100));
        assertFalse(p.marked(200));
        assertTrue(p.marked(300));
        p.acked(500);
        assertFalse(p.marked(500));
        assertTrue(p.marked(600));
    }

    @Test
    void forcedPushAfterHalfTheLargestWindow() {
        TcpPush p = new TcpPush();
        p.clear(1);
        assertFalse(p.forced(1 + 32768, 65536));
        assertTrue(p.forced(1 + 32769, 65536));
        p.mark(1 + 32769);
        assertFalse(p.forced(1 + 32770, 65536), "pushed_seq moved with the mark");
    }
}
