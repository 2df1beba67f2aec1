package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The fates of received segments: one count per segment, per CPU stripe or shared, summed on read. */
class TcpDropsTest {
    @Test
    void eachFateCountsOnceWhicheverCpuCountsIt() {
        TcpDrops d = new TcpDrops(2);
        d.count(0, TcpDrops.Reason.TCP_CSUM);
        d.count(1, TcpDrops.Reason.TCP_CSUM);
        d.count(-1, TcpDrops.Reason.NO_SOCKET); // a thread outside the softirqs
        d.count(1, null);
        assertEquals(2, d.get(TcpDrops.Reason.TCP_CSUM));
        assertEquals(1, d.get(TcpDrops.Reason.NO_SOCKET));
        assertEquals(1, d.consumed());
        assertEquals(4, d.total());
    }

    @Test
    void theSnapshotNamesEveryReasonInOrderThenConsumed() {
        TcpDrops d = new TcpDrops(1);
        d.count(0, TcpDrops.Reason.TCP_FLAGS);
        Map<String, Long> m = d.snapshot();
        List<String> names = List.copyOf(m.keySet());
        assertEquals(TcpDrops.Reason.values().length + 1, names.size());
        assertEquals("NOT_SPECIFIED", names.get(0));
        assertEquals("CONSUMED", names.get(names.size() - 1));
        assertEquals(1L, m.get("TCP_FLAGS"));
        assertEquals(0L, m.get("CONSUMED"));
    }
}
