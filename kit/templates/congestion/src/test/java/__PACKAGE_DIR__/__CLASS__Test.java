package __PACKAGE__;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.modnet.api.tcp.TcpCongestionState;

/** The algorithm against a connection of its own making: windows in segments, as TCP calls it. */
class __CLASS__Test {
    /** A connection's congestion fields, as TCP would hand them over. */
    static final class Conn implements TcpCongestionState {
        int cwnd = 10;
        int ssthresh = Integer.MAX_VALUE;
        int cnt;
        Object priv;
        long now;

        @Override public int cwnd() { return cwnd; }
        @Override public void cwnd(int segments) { cwnd = segments; }
        @Override public int ssthresh() { return ssthresh; }
        @Override public void ssthresh(int segments) { ssthresh = segments; }
        @Override public int cwndCnt() { return cnt; }
        @Override public void cwndCnt(int count) { cnt = count; }
        @Override public int cwndClamp() { return Integer.MAX_VALUE; }
        @Override public int mss() { return 1448; }
        @Override public int packetsInFlight() { return cwnd; }
        @Override public int sndUna() { return 0; }
        @Override public int sndNxt() { return 0; }
        @Override public long srttUs() { return 10_000; }
        @Override public long nowUs() { return now; }
        @Override public int caState() { return 0; }
        @Override public Object priv() { return priv; }
    }

    private final __CLASS__ cc = new __CLASS__();

    @Test
    void slowStartGrowsTheWindowByOneSegmentPerSegmentAcknowledged() {
        Conn c = new Conn();
        c.priv = cc.init(c);
        cc.congAvoid(c, 0, 4);
        assertEquals(14, c.cwnd);
    }

    @Test
    void aLossHalvesTheWindow() {
        Conn c = new Conn();
        c.priv = cc.init(c);
        c.cwnd = 40;
        assertEquals(20, cc.ssthresh(c));
    }
}
