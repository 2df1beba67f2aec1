package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;
import static org.modnet.socket.api.SocketCalls.SOL_SOCKET;
import static org.modnet.socket.api.SocketCalls.SO_REUSEPORT;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.skb.FlowDissector;
import org.modnet.socket.api.SockAddr;

/**
 * SO_REUSEPORT listeners: a SYN goes to the group member {@code reuseport_select_sock} picks,
 * {@code reciprocal_scale(inet_ehashfn(4-tuple), members)} in the group's order (the order the members
 * listened), and a member that closes gives its place to the group's last ({@code reuseport_detach_sock}).
 */
class TcpReuseportTest {
    private static final int PORT = 8080;
    private final TcpPeer p;

    TcpReuseportTest() throws Exception {
        p = new TcpPeer();
    }

    @AfterEach
    void tearDown() {
        p.close();
    }

    @Test
    void synsSpreadOverTheGroupByTheirHash() {
        int[] group = group(4);
        int notFirst = 0;
        for (int sport = 40000; sport < 40032; sport++) {
            notFirst += handshakeLandsOnPick(sport, group) != 0 ? 1 : 0;
        }
        assertTrue(notFirst > 0, "some SYNs go to a member other than the first");
        // the SYN path's pick allocates nothing (the JIT warmed first; the bound leaves room for the JVM's own)
        TcpNet net = p.s.tcp.net(p.s.ns);
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        TcpSock last = null;
        for (int i = 0; i < 20_000; i++) {
            last = net.lookupListener(TcpPeer.PEER, 40000 + (i & 31), TcpPeer.LOCAL, PORT);
        }
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 200_000; i++) {
            last = net.lookupListener(TcpPeer.PEER, 40000 + (i & 31), TcpPeer.LOCAL, PORT);
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertTrue(allocated < 100_000, allocated + " bytes for 200000 listener lookups");
        assertTrue(last != null);
    }

    @Test
    void aClosedMembersPlaceGoesToTheGroupsLast() {
        int[] group = group(4);
        assertEquals(0, p.sys.close(group[1]));
        int unlikeBindOrder = 0;
        for (int sport = 41000; sport < 41032; sport++) {
            int slot = handshakeLandsOnPick(sport, group[0], group[3], group[2]);
            unlikeBindOrder += slot != 0 ? 1 : 0; // slots 1 and 2 hold 2 and 3 if the later members just moved down
        }
        assertTrue(unlikeBindOrder > 0, "some SYNs hash onto the slots whose member the close changed");
    }

    @Test
    void theGroupsOrderCrossesAHandOver() {
        int[] group = group(4);
        p.s.swapTcp(TcpHandOver.STATE_VERSION);
        for (int sport = 42000; sport < 42032; sport++) {
            handshakeLandsOnPick(sport, group);
        }
    }

    /** n listeners with SO_REUSEPORT on LOCAL:PORT, in the order they listened. */
    private int[] group(int n) {
        int[] group = new int[n];
        for (int k = 0; k < n; k++) {
            group[k] = p.sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            assertEquals(0, p.sys.setsockopt(group[k], SOL_SOCKET, SO_REUSEPORT, 1));
            assertEquals(0, p.sys.bind(group[k], new SockAddr(TcpPeer.LOCAL, PORT)));
            assertEquals(0, p.sys.listen(group[k], 64));
        }
        return group;
    }

    /**
     * A handshake from the peer's port sport; checks that the listener in the slot Linux's rule picks,
     * {@code reciprocal_scale(jhash_3words(laddr, faddr, lport << 16 | fport, secret), n)}, accepted
     * it and no other did. Returns that slot.
     */
    private int handshakeLandsOnPick(int sport, int... slots) {
        int hash = FlowDissector.jhash3words(TcpPeer.LOCAL, TcpPeer.PEER, PORT << 16 | sport, TcpNet.INET_EHASH_SECRET);
        int want = (int) (((hash & 0xffffffffL) * slots.length) >>> 32);
        p.in(sport, PORT, TcpHeader.SYN, TcpPeer.PEER_ISS, 0, 65535, new byte[0], 0);
        assertEquals(TcpHeader.SYN | TcpHeader.ACK, p.out().flags());
        p.in(sport, PORT, TcpHeader.ACK, TcpPeer.PEER_ISS + 1, p.iss + 1, 65535, new byte[0], 0);
        p.none();
        for (int k = 0; k < slots.length; k++) {
            int fd = p.sys.accept(slots[k], null, SOCK_NONBLOCK);
            assertEquals(k == want, fd >= 0, "port " + sport + ": slot " + k + ", the hash picks " + want);
        }
        return want;
    }
}
