package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

import org.junit.jupiter.api.Test;

/**
 * What a TIME-WAIT costs: 100,000 timewait socks in a namespace's death row, with their timers armed,
 * held in well under a kilobyte each (a full socket's rings alone are 147,456 bytes at the defaults).
 */
class TcpTimewaitFootprintTest {
    private static final int N = 100_000;

    private static long used(MemoryMXBean m) {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return m.getHeapMemoryUsage().getUsed();
    }

    @Test
    void aHundredThousandTimewaitSocksFitInUnderAKilobyteEach() {
        try (TcpStack s = new TcpStack()) {
            TcpNet net = s.tcp.net(s.ns);
            MemoryMXBean m = ManagementFactory.getMemoryMXBean();
            long before = used(m);
            for (int i = 0; i < N; i++) {
                TcpTimewaitSock tw = new TcpTimewaitSock(net, 0x0a000002, 5000, 0x0a010000 + i / 50_000, 1024 + i % 50_000, false, -1,
                        0, i, TcpSock.TCP_TIME_WAIT, i, i, 65535, 7, true, 0, i);
                assertTrue(net.deathRow.insert(tw));
                tw.schedule(TcpSock.TIMEWAIT_MS);
            }
            long per = (used(m) - before) / N;
            System.out.println("TcpTimewaitFootprintTest: " + per + " bytes per timewait sock (sock, timer, hash slot, port index)");
            assertEquals(N, net.deathRow.count.get());
            assertTrue(per < 1024, per + " bytes per timewait sock");
            s.advance(61_000, 1_000);
            assertEquals(0, net.deathRow.count.get(), "all expired on the wheel");
            assertEquals(N, net.mib.get(TcpMib.Ext.TW));
        }
    }
}
