package org.modnet.tcp;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import org.modnet.api.inet.Ipv4;
import org.modnet.api.net.Errno;
import org.modnet.api.net.Jiffies;
import org.modnet.api.net.Timer;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.tcp.TcpCongestion;
import org.modnet.api.tcp.TcpCongestionState;
import org.modnet.socket.api.SleepListener;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SockTimer;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.TcpInfo;

/**
 * A TCP socket ({@code struct tcp_sock} with {@code inet_stream_ops}): the connection's state and the
 * user's calls ({@code tcp_v4_connect}, {@code inet_listen}, {@code inet_csk_accept}, {@code
 * tcp_sendmsg}, {@code tcp_recvmsg}, {@code tcp_shutdown}, {@code tcp_close}, the socket options), the
 * listener's side of the handshake and the hand-over to TIME-WAIT. The rest of the connection's logic
 * is in the kernel's files: {@link TcpInput} ({@code tcp_input.c}: what a segment does), {@link
 * TcpOutput} ({@code tcp_output.c}: what goes out) and {@link TcpTimers} ({@code tcp_timer.c}), one of
 * each per socket, made with it, working on this socket's fields.
 *
 * <p>Locking is Linux's {@code lock_sock}/{@code bh_lock_sock}: a segment is processed under the
 * socket's lock; when a user call holds it, the segment waits in a bounded backlog that the user
 * processes as it releases the lock ({@code release_sock}), and a full backlog drops it
 * (TCPBacklogDrop). Sent and received bytes live in byte rings bounded by {@code SO_SNDBUF} and
 * {@code SO_RCVBUF}, made only as data needs them ({@link TcpRings}): a received segment's payload is
 * copied once and its buffer returned at once.
 */
final class TcpSock extends Sock {
    static final int TCP_SYN_SENT = 2;
    static final int TCP_SYN_RECV = 3;
    static final int TCP_FIN_WAIT1 = 4;
    static final int TCP_FIN_WAIT2 = 5;
    static final int TCP_TIME_WAIT = 6;
    static final int TCP_CLOSE_WAIT = 8;
    static final int TCP_LAST_ACK = 9;
    static final int TCP_CLOSING = 11;

    /** Headroom for IPv4 and the link layer. */
    static final int HEADROOM = 64;
    /** {@code TCP_TIMEWAIT_LEN}: 2MSL, 60 s. */
    static final long TIMEWAIT_MS = 60_000;
    /** {@code TCP_TIMEOUT_INIT} (HZ), {@code TCP_RTO_MIN} (HZ/5), {@code TCP_RTO_MAX} (120 HZ), in ms at {@link Jiffies#HZ}. */
    static final long RTO_INIT_MS = Jiffies.delayMsecs(Jiffies.HZ);
    static final long RTO_MIN_MS = Jiffies.delayMsecs(Jiffies.HZ / 5);
    static final long RTO_MAX_MS = Jiffies.delayMsecs(120L * Jiffies.HZ);
    /** {@code TCP_DELACK_MIN} and {@code TCP_ATO_MIN}: HZ/25 (40 ms), the shortest delayed ACK and where ato starts. */
    static final long DELACK_MS = Jiffies.delayMsecs(Jiffies.HZ / 25);
    /** {@code TCP_DELACK_MAX}: HZ/5 (200 ms); a delayed ACK never waits longer (icsk_delack_max's default). */
    static final long DELACK_MAX_MS = Jiffies.delayMsecs(Jiffies.HZ / 5);
    /** {@code TCP_TIMEOUT_MIN}: 2 jiffies, the shortest timeout of TCP's timers (8 ms at HZ=250), in ms. */
    static final long TIMEOUT_MIN_MS = Jiffies.delayMsecs(2);
    /** {@code TCP_TIMEOUT_MIN_US}: 2 ms, whatever HZ is. */
    static final long TIMEOUT_MIN_US = 2000;

    /**
     * {@code usecs_to_jiffies}: {@code us} rounded up to whole jiffies, as the milliseconds a timer is armed
     * with ({@link Jiffies#delayMsecs}): 25,001 us is 28 ms at HZ=250, 26 at HZ=1000.
     */
    static long usecsToJiffiesMs(long us) {
        return Jiffies.delayMsecs(Jiffies.fromUsecs(us));
    }
    /** {@code TCP_INIT_CWND}. */
    static final int INIT_CWND = 10;
    /** {@code IPV4_MAX_PMTU}: an MSS never makes a datagram longer than IP's 16-bit length (lo's MTU is 65536). */
    private static final int IPV4_MAX_PMTU = 65535;
    /** {@code TCP_MAX_QUICKACKS}: segments acknowledged at once in quick-ACK mode, at most ({@code icsk_ack.quick}). */
    static final int QUICKACKS = 16;
    /**
     * Out-of-order ranges kept (the {@code out_of_order_queue}'s bound here): adjacent and overlapping
     * segments merge into one range, so this bounds the holes, not the segments; a segment that would
     * need one more range is TCPOFODrop.
     */
    static final int OFO_MAX = 64;
    private static final int[] NO_INTS = {};
    private static final boolean[] NO_BOOLEANS = {};
    /** {@code net.ipv4.tcp_reordering}'s default: the reordering TCP_INFO reports. */
    static final int REORDERING = 3;

    /**
     * What the congestion seam changes ({@code snd_cwnd}, {@code snd_ssthresh}, {@code snd_cwnd_cnt}) and
     * the connection as an algorithm sees it ({@link TcpCongestionState}).
     */
    static final class Cwnd implements TcpCongestionState {
        private final TcpSock sk;
        int cwnd = INIT_CWND;
        int ssthresh = Integer.MAX_VALUE;
        int cwndCnt;
        int cwndClamp = 0x7fffffff;

        Cwnd(TcpSock sk) {
            this.sk = sk;
        }

        @Override
        public int cwnd() {
            return cwnd;
        }

        @Override
        public void cwnd(int segments) {
            cwnd = Math.max(1, segments);
        }

        @Override
        public int ssthresh() {
            return ssthresh;
        }

        @Override
        public void ssthresh(int segments) {
            ssthresh = segments;
        }

        @Override
        public int cwndCnt() {
            return cwndCnt;
        }

        @Override
        public void cwndCnt(int count) {
            cwndCnt = count;
        }

        @Override
        public int cwndClamp() {
            return cwndClamp;
        }

        @Override
        public int mss() {
            return sk.mss;
        }

        @Override
        public boolean isCwndLimited() {
            return sk.output.isCwndLimited();
        }

        @Override
        public int priorCwnd() {
            return sk.rec.priorCwnd;
        }

        @Override
        public int packetsInFlight() {
            int m = Math.max(sk.mss, 1);
            return (sk.sndNxt - sk.sndUna + m - 1) / m;
        }

        @Override
        public int sndUna() {
            return sk.sndUna;
        }

        @Override
        public int sndNxt() {
            return sk.sndNxt;
        }

        @Override
        public long srttUs() {
            return sk.srttUs;
        }

        @Override
        public long nowUs() {
            return sk.net.core.nanoTime() / 1000;
        }

        @Override
        public long minRttUs() {
            return sk.minRttUs;
        }

        @Override
        public long lastSendUs() {
            return (sk.idleFromMs != 0 ? sk.idleFromMs : sk.lsndtimeMs) * 1000;
        }

        @Override
        public void mibAdd(int mib, long delta) {
            TcpMib.Ext c = switch (mib) {
                case TcpCongestion.MIB_HYSTART_TRAIN_DETECT -> TcpMib.Ext.TCPHystartTrainDetect;
                case TcpCongestion.MIB_HYSTART_TRAIN_CWND -> TcpMib.Ext.TCPHystartTrainCwnd;
                case TcpCongestion.MIB_HYSTART_DELAY_DETECT -> TcpMib.Ext.TCPHystartDelayDetect;
                case TcpCongestion.MIB_HYSTART_DELAY_CWND -> TcpMib.Ext.TCPHystartDelayCwnd;
                default -> null; // not a counter an algorithm may touch
            };
            if (c != null) {
                sk.net.mib.add(sk.net.core.currentCpu(), c, delta);
            }
        }

        @Override
        public org.modnet.api.tcp.TcpRateSample rateSample() {
            return sk.rec.rate;
        }

        @Override
        public int delivered() {
            return sk.delivered;
        }

        @Override
        public int lost() {
            return sk.rec.lost;
        }

        @Override
        public int appLimited() {
            return sk.rec.rate.appLimited;
        }

        @Override
        public void markAppLimited() {
            int end = sk.delivered + sk.rec.inFlight();
            sk.rec.rate.appLimited = end != 0 ? end : 1;
        }

        @Override
        public long deliveredMstampUs() {
            return sk.rec.rate.deliveredMstampUs;
        }

        @Override
        public long pacingRate() {
            return sk.pacingRate;
        }

        @Override
        public void pacingRate(long bytesPerSecond) {
            long max = sk.maxPacingRate();
            sk.pacingRate = max >= 0 && (bytesPerSecond < 0 || bytesPerSecond > max) ? max : bytesPerSecond;
        }

        @Override
        public long maxPacingRate() {
            return sk.maxPacingRate();
        }

        @Override
        public void pacingNeeded() {
            sk.pacingNeeded = true;
        }

        @Override
        public int tsoSegsGoal() {
            return TcpTso.maxSegs(sk.mss, sk.maxWindow, sk.pacingRate, sk.minTsoSegs());
        }

        @Override
        public int caState() {
            return sk.caState;
        }

        @Override
        public Object priv() {
            return sk.caPriv;
        }
    }

    final TcpNet net;
    // --- how fully the congestion window is used (tcp_cwnd_validate), so it grows only when it limits ---
    /** {@code is_cwnd_limited}: the last window's worth of sending was held back by the window. */
    boolean isCwndLimited;
    /** {@code max_packets_out}: the most segments in flight during that window. */
    int maxPacketsOut;
    /** {@code cwnd_usage_seq}: {@code snd_nxt} when that window began; an ACK past it starts a new one. */
    int cwndUsageSeq;
    /** {@code snd_cwnd_used}: the most segments in flight while the application, not the window, limited. */
    int cwndUsed;
    /** {@code snd_cwnd_stamp}: when the window was last fully used (or last decayed). */
    long cwndStampMs;
    /**
     * Threads asleep in {@link #await} ({@code sk_sleep}'s wait queue), in slots under the socket
     * lock: a sleep allocates nothing (a {@code Condition} makes a queue node per await, 24 bytes per
     * 64 KiB of a threaded bulk transfer). {@link #wake} bumps {@link #wakeups} and unparks them.
     */
    private Thread[] sleepers = new Thread[2];
    private int sleeperCount;
    private int wakeups;
    /**
     * Set (under the lock) while {@link #unlockSock} or {@link #deliver} processes segments it lets go of
     * the lock after: a sleeper they wake is kept in {@link #wokenAtRelease} and unparked after the
     * unlock, as Linux's reader woken by {@code sk_data_ready} finds the socket released by the time it
     * runs. Unparked at once, the reader spun and yielded for the lock while the softirq went on to
     * send its ACK (a write to the TAP, under the lock).
     */
    private boolean wakeAtRelease;
    /** The sleeper woken while {@link #wakeAtRelease}: unparked once the lock is let go. */
    private Thread wokenAtRelease;
    /** Pollers (a selector, epoll) to wake once the lock is let go, for the same reason as {@link #wokenAtRelease}. */
    private boolean pollersAtRelease;
    /** The owner is in {@link #await}, past or at its backlog check: {@link #deliver} must not leave a segment queued. */
    private volatile boolean userSleeping;
    /**
     * {@code tp->ucopy}: the buffer of a reader asleep in recvmsg with nothing to read, lent under the
     * socket lock; in-order bytes that arrive meanwhile go from the skb straight into it
     * ({@link #ucopy}) instead of through the receive ring, one copy per byte fewer. Null when no
     * reader waits so.
     */
    private ByteBuffer ucopyBuf;
    /** Bytes {@link #ucopy} put in the lent buffer since it was lent ({@code copied_seq} moved by as many). */
    private int ucopied;
    final TcpOptions rx = new TcpOptions();
    final TcpOutOptions txOpts = new TcpOutOptions();
    final Cwnd cw = new Cwnd(this);
    /** The timers' side of this connection ({@code tcp_timer.c}); made first, as the timers' callbacks name it. */
    final TcpTimers timers = new TcpTimers(this);
    /** The sending side of this connection ({@code tcp_output.c}). */
    final TcpOutput output = new TcpOutput(this);
    /** The receiving side of this connection ({@code tcp_input.c}). */
    final TcpInput input = new TcpInput(this);
    /** Loss recovery: the SACK scoreboard, RACK-TLP, PRR and undo ({@code tcp_recovery.c} and tcp_input.c's). */
    final TcpRecovery rec = new TcpRecovery(this);
    /** {@code icsk_ca_ops}: written under the lock (and volatile for {@code ss}); see {@link #congInit}. */
    volatile CongestionControl.Ca ca;
    /** {@code icsk_ca_priv}: what the algorithm's init returned. */
    Object caPriv;
    /** {@code icsk_ca_initialized}. */
    boolean caInit;
    /** {@code icsk_ca_state}. */
    int caState;
    /** The name of the algorithm this connection fell back from when it left, until it returns or the user chooses. */
    String caLeft;
    final TcpTimer rtxTimer;
    final TcpTimer delackTimer;
    final TcpTimer twTimer;
    private final int cpu;

    // --- the backlog (sk_backlog) ---
    private final TcpBacklog backlog = new TcpBacklog();
    private final AtomicInteger backlogBytes = new AtomicInteger();

    // --- binding and listening ---
    volatile int boundAddress;
    TcpSock parent; // a child not yet accepted
    final ArrayDeque<TcpSock> acceptQueue = new ArrayDeque<>(); // guarded by lock
    int maxAckBacklog;
    final AtomicInteger synQlen = new AtomicInteger();
    boolean inSynQueue;
    boolean hashed;
    boolean portHeld;

    // --- the send side ---
    int iss;
    int sndUna;
    int sndNxt;
    /** The highest sequence number sent: after a timeout {@link #sndNxt} goes back to {@link #sndUna}, this does not. */
    int sndMax;
    /** The end of the data queued by the user ({@code write_seq}); a FIN takes the number after it. */
    int writeSeq;
    int sndWnd;
    int sndWl1;
    int maxWindow;
    int mss = TcpOptions.MSS_DEFAULT;
    int advmss;
    /** {@code icsk_pmtu_cookie}: the path MTU the MSS was last synced to ({@link TcpErr#syncMss}); 0 before. */
    int pmtuCookie;
    /** {@code tp->mtu_info}: the next-hop MTU of the last "fragmentation needed" ({@link TcpErr}). */
    int mtuInfo;
    /** {@code TCP_MTU_REDUCED_DEFERRED}: a frag-needed came while a user held the socket; done at release. */
    volatile boolean mtuReducedDeferred;
    /** {@code sk_err_soft}: an ICMP error the connection survives; reported only if it then times out. */
    volatile Errno errSoft;
    boolean finQueued;
    boolean finSent;
    byte[] sbuf;
    int sbase; // the sequence number of sbuf[0] modulo its size

    // --- the receive side ---
    int irs;
    int rcvNxt;
    int copiedSeq;
    int rcvWndRight;
    int rcvWscale;
    byte[] rbuf;
    int rbase;
    /**
     * The receive ring's most as the buffer allows it ({@link #allocRings}, doubled by DRS): it holds the
     * whole buffer, so every window offered fits, whatever the ring holds now. 0 before the handshake.
     */
    int rbufLimit;
    boolean finReceived;
    /**
     * The out-of-order queue as ranges [ofoSeq, ofoEnd) in sequence order, apart and not touching, the
     * last one's FIN in ofoFin (ofoEnd is the last byte's end; the FIN's number comes after it). Their
     * bytes are in the receive ring already, at their offset from {@code rcv_nxt}, in the room the
     * window offered; no skb is held. Made with the first range ({@link #ofoReserve}), given back when
     * quiet.
     */
    int[] ofoSeq = NO_INTS;
    int[] ofoEnd = NO_INTS;
    boolean[] ofoFin = NO_BOOLEANS;
    int ofoCount;
    /** The out-of-order ranges' bytes, charged against SO_RCVBUF with the unread ones ({@code sk_rmem_alloc}). */
    int ofoBytes;
    /** What this connection has charged to {@link TcpMem} (its queued bytes when last synced). */
    long memCharged;
    /** {@code rcvq_space}: bytes read in the last measured RTT, and where and when that measure began (DRS). */
    int rcvqSpace;
    int rcvqSeq;
    long rcvqTimeMs;
    int tsRecent;
    int tsOff;
    /** {@code SOCK_NOSPACE}: a writer found the send buffer full; the next ACK that frees room may expand it. */
    boolean noSpace;
    /** Gives back rings that stayed empty while the connection was quiet ({@link #memReclaim}). */
    final TcpTimer reclaimTimer;

    // --- ACKs ---
    boolean ackPending;
    /** {@code ICSK_ACK_NOW}: this one ACK goes at once (a hole), without entering quick-ACK mode. */
    boolean ackNow;
    int rcvdSinceAck;
    /** {@code ICSK_ACK_PUSHED}: a segment that looked like the end of a write (PSH on a full one, or a short one) is unacknowledged. */
    static final int ACK_PUSHED = 1;
    /** {@code ICSK_ACK_PUSHED2}: two such segments. */
    static final int ACK_PUSHED2 = 2;
    /** {@code icsk_ack.pending}'s PUSHED bits, cleared by every ACK sent. */
    int ackPushed;
    /** {@code icsk_ack.last_seg_size}: the payload of the last short segment that could set the MSS estimate, else 0. */
    int lastSegSize;
    int quickAcks = QUICKACKS;
    /** {@code icsk_ack.pingpong}: data replies sent within ato of the data they answer, up to 255; 0 leaves the mode. */
    int pingpong;
    /** {@code icsk_ack.ato}: the delayed ACK's timeout, learnt from the gaps between segments (0 before data). */
    long atoMs;

    // --- retransmission: Linux's tcp_rtt_estimator and tcp_set_rto (TcpTimers#rttEstimator) ---
    /** The smoothed RTT, srtt_us >> 3: what everything else reads. */
    long srttUs;
    /** Linux's srtt_us, eight times the smoothed RTT (its fraction kept). */
    long srtt8Us;
    /** Linux's mdev_us: four times the mean deviation, falling samples weighing less. */
    long mdevUs;
    /** Linux's mdev_max_us: the largest mdev_us this RTT, at least tcp_rto_min. */
    long mdevMaxUs;
    /** Linux's rttvar_us: what the RTO adds to srtt, never below tcp_rto_min; decays once an RTT. */
    long rttvarUs;
    /** Linux's rtt_seq: the RTT ends (rttvar may decay) once snd_una passes it. */
    int rttvarSeq;
    long rtoMs = RTO_INIT_MS;
    int retransmits;
    boolean rttTiming;
    int rttSeq;
    long rttStampMs;
    int retransHigh;
    long lastOowAckMs;
    /** Why the segment being processed was dropped; null while it is taken ({@link TcpDrops}). */
    TcpDrops.Reason drop;
    /** The segment went on to another socket, which counts its fate. */
    private boolean passedOn;

    // --- SACK, PAWS, Nagle, keepalive and the user timeout (Linux's fields of the same names) ---
    final TcpSackBlocks sacks = new TcpSackBlocks();
    /** When {@link #tsRecent} was stored ({@code ts_recent_stamp}), for PAWS's 24-day rule. */
    long tsRecentStampMs;
    /** {@code rcv_nxt} as the last ACK sent announced it (RFC 7323's Last.ACK.sent, Linux's {@code rcv_wup}). */
    int lastAckSent;
    /** {@code nonagle}: {@link #NAGLE_OFF} (TCP_NODELAY) and {@link #NAGLE_CORK} (TCP_CORK). */
    int nonagle;
    /** The push marks of the send ring ({@code tcp_mark_push}): where Linux's skbs would end with PSH. */
    final TcpPush push = new TcpPush();
    /** Whether {@link #push} has its {@code pushed_seq} (the first write starts it). */
    boolean pushStarted;
    /** {@code lsndtime}: when new data last went out, for {@code tcp_slow_start_after_idle}. */
    long lsndtimeMs;
    /**
     * The {@link #lsndtimeMs} an idle restart ({@code tcp_cwnd_restart}) found, until the next segment
     * raises {@code CA_EVENT_TX_START}: modnet's restart moves lsndtime (Linux's does not), and the
     * algorithm must see when sending stopped. 0: none.
     */
    long idleFromMs;
    /** MSG_MORE: the send in progress holds a partial segment back, as TCP_CORK does for one push. */
    boolean corkOnce;
    /** The end of the last sub-MSS segment sent ({@code snd_sml}, Minshall's Nagle). */
    int sndSml;
    final TcpTimer keepaliveTimer;
    /** TCP_KEEPIDLE, TCP_KEEPINTVL (seconds) and TCP_KEEPCNT; 0 means the namespace's sysctl. */
    int keepaliveTime;
    int keepaliveIntvl;
    int keepaliveProbes;
    /** Keepalive or zero-window probes sent without an answer ({@code icsk_probes_out}). */
    int probesOut;
    /** When zero-window probing started ({@code icsk_probes_tstamp}); 0 when not probing. */
    long probesTstampMs;
    /** Zero-window probes' exponential backoff ({@code icsk_backoff}); the RTO is not doubled for them. */
    int backoff;
    /** The last ACK received ({@code rcv_tstamp}) and the last data received ({@code icsk_ack.lrcvtime}). */
    long rcvTstampMs;
    long lrcvTimeMs;
    /** TCP_USER_TIMEOUT in milliseconds, 0 when unset ({@code icsk_user_timeout}). */
    int userTimeoutMs;
    /** When the oldest unacknowledged byte was sent, as the user timeout measures ({@code retrans_stamp}). */
    long headSentMs;
    // --- the minisocks (TcpSyncookies, TcpTimewaitSock) ---
    /** When this listener last answered with a cookie ({@code tcp_synq_overflow}); cookie ACKs are checked for two minutes after. */
    volatile long synqOverflowMs = Long.MIN_VALUE;
    private volatile boolean synfloodWarned;
    /** The TIME-WAIT sock that took this connection's place: segments still queued for it go there. */
    private TcpTimewaitSock timewait;
    // --- what TCP_INFO reports (RFC 4898's counters as tcp_sock keeps them) ---
    int segsOut;
    int segsIn;
    int dataSegsOut;
    int dataSegsIn;
    long bytesSent;
    long bytesRetrans;
    long bytesAcked;
    long bytesReceived;
    int totalRetrans;
    int totalRto;
    int delivered;
    /** {@code tp->delivered_ce}: of {@link #delivered}, what ACKs with ECE acknowledged. */
    int deliveredCe;
    /** {@code tp->ecn_flags}: {@link TcpEcn}'s {@code TCP_ECN_*} bits. */
    int ecnFlags;
    int rcvOoopack;
    int rcvMss;
    /**
     * {@code tp->scaling_ratio}: the payload a byte of receive buffer is expected to hold, in 256ths
     * ({@code tcp_win_from_space}). Measured as Linux measures it ({@code tcp_measure_rcv_mss}): a full
     * segment's payload over the {@link SkBuff#truesize} it arrived in (the driver's data area and a
     * head). modnet copies the payload into the receive ring at once, so what stays charged ({@link
     * #rmemQueued}) is payload only: the buffer planned at the arriving skbs' ratio holds the window's
     * bytes with room to spare, the room Linux finds only by coalescing and collapsing its queue.
     */
    int scalingRatio = TCP_DEFAULT_SCALING_RATIO;
    /** {@code tp->window_clamp}: the largest window to offer; TCP_WINDOW_CLAMP sets it (0: unset before the handshake). */
    int windowClamp;
    /** {@code tp->rcv_ssthresh}: the window offered grows to this, which each data segment raises ({@link TcpInput#growWindow}). */
    int rcvSsthresh;
    /** {@code tp->rcv_wnd}: the window the last segment offered, unscaled (the SYN's from {@link #selectInitialWindow}). */
    int rcvWnd;
    /** The route's device ({@code sk_setup_caps}): whether it takes GSO skbs is read from it per write. */
    org.modnet.api.net.NetDevice routeDev;
    long minRttUs;
    /** {@code sk_pacing_rate} and {@code sk_max_pacing_rate} in bytes per second; -1 (Linux's ~0): unlimited. */
    long pacingRate = -1L;
    /** {@code sk_pacing_status == SK_PACING_NEEDED}: the algorithm asked for pacing (BBR). */
    boolean pacingNeeded;
    /** {@code enum tcp_chrono}: what limits sending now, for TCP_INFO's busy_time, rwnd_limited, sndbuf_limited. */
    static final int CHRONO_UNSPEC = 0;
    static final int CHRONO_BUSY = 1;
    static final int CHRONO_RWND_LIMITED = 2;
    static final int CHRONO_SNDBUF_LIMITED = 3;
    /** {@code chrono_type}, {@code chrono_start} (microseconds) and {@code chrono_stat} (microseconds per type). */
    int chronoType;
    long chronoStartUs;
    final long[] chronoStat = new long[4];

    /** {@code tcp_wstamp_ns}: the earliest departure time (EDT) of the next segment, on the core's clock. */
    long wstampNs;
    /** {@code pacing_timer}: sending resumes at {@link #wstampNs} ({@code tcp_pace_kick}). */
    final TcpTimer pacingTimer;
    long lastDataSentMs;
    long lastDataRecvMs;
    long lastAckRecvMs;

    /**
     * The state was handed to the bundle's next version ({@link TcpHandOver#freeze}): this object is a
     * shell now. Timers do nothing, a user call that comes for it gets EAGAIN (the socket layer retries
     * it on the socket that adopts this one), and closing it sends nothing.
     */
    volatile boolean frozen;
    /** The timers that fired after a hand-over stopped the namespace's clocks ({@code FIRED_*} bits; written by the timer thread). */
    volatile int firedWhileStopped;
    /**
     * Left in place by a live update's freeze ({@code TcpConnectionsInPlace}): the next version finds it by its 4-tuple in
     * this version's tables and asks for it; {@link #inPlaceState} is its state once frozen for that (guarded by this
     * socket's monitor, which nothing else takes).
     */
    volatile boolean inPlace;
    org.modnet.api.handover.TcpConnectionState inPlaceState;
    /** The hand-over's walk over a namespace's tables last met this socket in the walk of this stamp ({@link TcpHandOver#freeze}). */
    int walked;
    static final int FIRED_RTX = 1;
    static final int FIRED_DELACK = 2;
    static final int FIRED_TW = 4;
    static final int FIRED_KEEPALIVE = 8;

    /**
     * A timer callback's first question: the namespace's clocks stopped for a hand-over ({@link
     * TcpHandOver#stopClocks}), so the timer does nothing and is noted as fired; its expiry stays for the
     * freeze to read what was left at the stop.
     */
    boolean stoppedClock(int bit) {
        if (net.clocksStoppedNanos == 0) {
            return false;
        }
        if (bit != 0) {
            firedWhileStopped |= bit;
        }
        return true;
    }

    /** Takes what every socket shares from a handed-over state ({@link Sock#adopt}), for {@link TcpHandOver}. */
    void adoptSocket(org.modnet.api.handover.SocketState st) {
        adopt(st);
        boundAddress = st.boundAddress();
    }

    /** What waits in the backlog is processed before the state is copied: segments the old version took are its to answer. */
    void drainForHandOver() {
        drainBacklog(net.core.currentCpu());
    }

    /** EAGAIN for a call on a socket whose state went to the next version: the caller retries on that one. */
    private void checkFrozen() throws SockException {
        if (frozen) {
            throw SockException.of(isClosed() ? Errno.EBADF : Errno.EAGAIN); // closed: the next version refused it
        }
    }

    TcpSock(TcpNet net) {
        super(net.ns, SocketCalls.SOCK_STREAM, SocketCalls.IPPROTO_TCP, null);
        this.net = net;
        this.cpu = (int) (inode() % net.core.cpus());
        // classes, not lambdas (see TcpTimer's constructor): eighteen call sites, each spinning a class at its first run
        this.rtxTimer = new TcpTimer(net.core, cpu, false, new TimerCall(this, TimerCall.RETRANSMIT));
        this.delackTimer = new TcpTimer(net.core, cpu, false, new TimerCall(this, TimerCall.DELACK));
        this.twTimer = new TcpTimer(net.core, cpu, false, new TimerCall(this, TimerCall.TIMEWAIT));
        this.keepaliveTimer = new TcpTimer(net.core, cpu, false, new TimerCall(this, TimerCall.KEEPALIVE));
        this.reclaimTimer = new TcpTimer(net.core, cpu, false, new TimerCall(this, TimerCall.RECLAIM));
        this.pacingTimer = new TcpTimer(net.core, cpu, true, new TimerCall(this, TimerCall.PACING));
        setBuffers(net.wmem.get()[1], net.rmem.get()[1], 0); // tcp_init_sock: tcp_wmem[1] and tcp_rmem[1]
        this.ca = net.cong.dflt(); // tcp_assign_congestion_control
    }

    /** A timer's handler: {@link TcpTimers}' of its kind, or {@link #memReclaim}. */
    private static final class TimerCall implements Runnable {
        static final int RETRANSMIT = 0;
        static final int DELACK = 1;
        static final int TIMEWAIT = 2;
        static final int KEEPALIVE = 3;
        static final int RECLAIM = 4;
        static final int PACING = 5;
        private final TcpSock sk;
        private final int kind;

        TimerCall(TcpSock sk, int kind) {
            this.sk = sk;
            this.kind = kind;
        }

        @Override
        public void run() {
            switch (kind) {
                case RETRANSMIT -> sk.timers.retransmitTimer();
                case DELACK -> sk.timers.delackTimer();
                case TIMEWAIT -> sk.timers.timewaitTimer();
                case KEEPALIVE -> sk.timers.keepaliveTimer();
                case RECLAIM -> sk.memReclaim();
                default -> sk.timers.pacingTimer();
            }
        }
    }

    /** The socket's lock ({@code sk_lock}) for the split-out parts, which are not subclasses of {@code Sock}. */
    java.util.concurrent.locks.ReentrantLock sockLock() {
        return lock;
    }

    /** {@code inet_sk_state_store}: the state without {@link #setState}'s bookkeeping, for the split-out parts. */
    void stateStore(int s) {
        state = s;
    }

    /** Sock's {@code setShutdown} and {@code setBuffers}, which the split-out parts cannot reach as protected members. */
    void setShutdownBits(int bits) {
        setShutdown(bits);
    }

    void setSockBuffers(int sndbuf, int rcvbuf, int locks) {
        setBuffers(sndbuf, rcvbuf, locks);
    }

    int laddr() {
        return localAddress;
    }

    int lport() {
        return localPort;
    }

    int raddr() {
        return remoteAddress;
    }

    int rport() {
        return remotePort;
    }

    int boundAddress() {
        return boundAddress;
    }

    int mss() {
        return mss;
    }

    long rtoMs() {
        return rtoMs;
    }

    // --- what ss, /proc/net/tcp and TCP_INFO read (tcp_get_info, inet_diag) ---

    /** {@code tcp_segs_in} and {@code tcp_measure_rcv_mss}: every segment the socket processes is counted. */
    private void countIn(SkBuff skb) {
        int payload = skb.len() - (skb.getU8(skb.data() + TcpHeader.DOFF) >>> 4) * 4;
        int segs = Math.max(skb.gsoSegs(), 1); // tcp_segs_in
        segsIn += segs;
        if (skb.isGso()) {
            payload = skb.gsoSize(); // tcp_measure_rcv_mss: a GSO skb's segments are gso_size each
        }
        if (payload > 0) {
            dataSegsIn += segs;
            lastDataRecvMs = nowMs();
            int guess = ackRcvMss();
            int flags = skb.getU8(skb.data() + TcpHeader.FLAGS);
            int lss = lastSegSize;
            lastSegSize = 0;
            if (payload >= guess) { // tcp_measure_rcv_mss: only a segment as large as the guess raises it
                if (payload != guess) {
                    measureScalingRatio(skb);
                }
                rcvMss = advmss > 0 ? Math.min(payload, advmss) : payload;
                if ((flags & TcpHeader.PSH) != 0) {
                    ackPushed |= ACK_PUSHED; // likely a write's end: the reader's taking it all is an ACK at once
                }
            } else {
                // a short segment: one whose length (header included) says "full sized" twice running is the MSS
                // now (a path with a smaller MTU); otherwise it ends a write and is pushed
                int hdr = (skb.getU8(skb.data() + TcpHeader.DOFF) >>> 4) * 4;
                int len = payload + hdr;
                int remnant = TcpHeader.FIN | TcpHeader.URG | TcpHeader.SYN | TcpHeader.PSH; // TCP_REMNANT
                if (len >= TcpOptions.MSS_DEFAULT + TcpHeader.MIN_LEN
                        || len >= TCP_MIN_MSS + TcpHeader.MIN_LEN && (flags & remnant) == 0) {
                    len -= TcpHeader.MIN_LEN + (rx.tstampOk ? TcpOutOptions.ALIGNED_TSTAMP : 0); // tcp_header_len
                    lastSegSize = len;
                    if (len == lss) {
                        rcvMss = len;
                        return;
                    }
                }
                if ((ackPushed & ACK_PUSHED) != 0) {
                    ackPushed |= ACK_PUSHED2;
                }
                ackPushed |= ACK_PUSHED;
            }
        }
    }

    /**
     * {@code tcp_measure_rcv_mss}'s scaling ratio: the segment's payload over the truesize it arrived in
     * (a GSO skb's whole payload over its whole truesize); when it moves, the window clamp becomes the
     * buffer's window at the new ratio, and DRS's measure no more than that.
     */
    private void measureScalingRatio(SkBuff skb) {
        int len = skb.len() - (skb.getU8(skb.data() + TcpHeader.DOFF) >>> 4) * 4;
        // modnet's large-pool buffer (64 KiB) takes any payload up to its size and goes back to its pool as
        // soon as the payload is copied into the ring; Linux's skb for the same payload (lo's, or GRO's) is
        // a head and the pages the payload fills, so the ratio is taken over that (a head and whole 4 KiB
        // pages), never over more than the buffer itself: a 32,741-byte segment over lo measures 253/256 as
        // on Linux, not 126/256, which offered less than one segment of window and stalled the sender
        int truesize = linuxTruesize(skb, len);
        int ratio = (int) Math.min(((long) len << TCP_RMEM_TO_WIN_SCALE) / Math.max(truesize, 1), 255);
        ratio = Math.max(ratio, 1);
        if (ratio != scalingRatio) {
            scalingRatio = ratio;
            windowClamp = fullSpace();
            rcvqSpace = Math.min(rcvqSpace, windowClamp);
        }
    }

    /**
     * The truesize Linux's skb for {@code skb}'s {@code len} payload bytes would have: a head and the 4 KiB pages the payload
     * fills, never more than modnet's buffer itself (a large-pool buffer is 64 KiB whatever it carries).
     */
    static int linuxTruesize(SkBuff skb, int len) {
        return Math.min(skb.truesize(), SkBuff.HEAD_TRUESIZE + ((len + PAGE_SIZE - 1) & -PAGE_SIZE));
    }

    /**
     * What a segment waiting in the backlog counts against {@link #backlogFull} and the window ({@code sk_backlog.len} grows
     * by the skb's truesize): {@link #linuxTruesize} of the segment (its TCP header with it). Counted at 64 KiB, a resent
     * 2-MSS GSO skb from the large pool filled a default socket's backlog after six segments, where Linux's takes dozens (and
     * coalesces more); read again as it leaves the backlog, unchanged while it waits.
     */
    private static int backlogTruesize(SkBuff skb) {
        return linuxTruesize(skb, skb.len());
    }

    /** {@code icsk_ack.rcv_mss}, or before a segment raised it {@code tcp_initialize_rcv_mss}'s guess (536 at most). */
    int ackRcvMss() {
        return rcvMss > 0 ? rcvMss : Math.min(TcpOptions.MSS_DEFAULT, Math.max(Math.min(advmss > 0 ? advmss : mss, mss), 1));
    }

    /** {@code tcp_transmit_skb}'s counting: segments, data segments and their bytes, retransmissions included. */
    void countOut(int len) {
        segsOut++;
        if (len > 0) {
            dataSegsOut++;
            bytesSent += len;
            lastDataSentMs = nowMs();
        }
    }

    /**
     * {@code tcp_get_info}: the connection as {@code struct tcp_info} tells it, in Linux's units. A
     * listener reports only its state, congestion window, reordering and its accept queue (in
     * {@code unacked}) and backlog (in {@code sacked}), as Linux does.
     */
    @Override
    public TcpInfo tcpInfo() {
        lockSock();
        try {
            long now = nowMs();
            int st = state;
            if (st == TCP_LISTEN) {
                return new TcpInfo(st, 0, 0, 0, 0, 0, 0, 0, false, 0, 0, 0, 0, 0, acceptQueue.size(), maxAckBacklog, 0, 0, 0,
                        0, 0, 0, 0, 0, 0, 0, 0, 0, cw.cwnd, 0, REORDERING, 0, 0, 0, -1L, -1L, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
            }
            boolean synced = st != TCP_SYN_SENT && st != TCP_CLOSE;
            int m = Math.max(mss, 1);
            int options = (rx.tstampOk ? TcpInfo.TCPI_OPT_TIMESTAMPS : 0) | (rx.sackOk ? TcpInfo.TCPI_OPT_SACK : 0)
                    | (rx.wscaleOk ? TcpInfo.TCPI_OPT_WSCALE : 0) | ((ecnFlags & TcpEcn.TCP_ECN_OK) != 0 ? TcpInfo.TCPI_OPT_ECN : 0)
                    | ((ecnFlags & TcpEcn.TCP_ECN_SEEN) != 0 ? TcpInfo.TCPI_OPT_ECN_SEEN : 0);
            int rcvWnd = synced ? Math.max(rcvWndRight - rcvNxt, 0) : 0;
            long pacing = pacingRate; // ~0 until the first RTT sample, as sk_pacing_rate starts
            int notsent = TcpSeq.after(writeSeq, sndNxt) ? writeSeq - sndNxt : 0;
            return new TcpInfo(
                    st, // state
                    caState, // ca_state
                    retransmits, // retransmits
                    Math.min(probesOut, 0xff), // probes
                    retransmits, // backoff: each timeout doubled the RTO
                    options,
                    rx.wscaleOk ? rx.sndWscale : 0, // snd_wscale
                    rx.wscaleOk ? rcvWscale : 0, // rcv_wscale
                    rec.rate.rateAppLimited, // delivery_rate_app_limited
                    0, // fastopen_client_fail
                    (int) Math.min(rtoMs * 1000, Integer.MAX_VALUE), // rto, usec
                    (int) (atoMs * 1000), // ato, usec: icsk_ack.ato
                    mss, // snd_mss
                    ackRcvMss(), // rcv_mss
                    rec.q.packetsOut, // unacked
                    rec.q.sackedOut, // sacked
                    rec.q.lostOut, // lost
                    rec.q.retransOut, // retrans
                    0, // fackets
                    age(now, lastDataSentMs), // last_data_sent
                    0, // last_ack_sent: not remembered, as in Linux
                    age(now, lastDataRecvMs), // last_data_recv
                    age(now, lastAckRecvMs), // last_ack_recv
                    pmtuCookie > 0 ? pmtuCookie : advmss > 0 ? Math.min(advmss + 40, 0xffff) : 0, // pmtu: at most IP_MAX_MTU
                    synced ? rcvSsthresh : 0, // rcv_ssthresh
                    (int) Math.min(srttUs, Integer.MAX_VALUE), // rtt, usec
                    (int) Math.min(mdevUs >> 2, Integer.MAX_VALUE), // rttvar, usec: mdev_us >> 2, as tcp_get_info
                    cw.ssthresh == Integer.MAX_VALUE ? TcpInfo.INFINITE_SSTHRESH : cw.ssthresh, // snd_ssthresh
                    cw.cwnd, // snd_cwnd
                    advmss, // advmss
                    rec.reordering, // reordering
                    0, // rcv_rtt
                    synced ? rcvqSpace : 0, // rcv_space: rcvq_space.space, DRS's last RTT's read
                    totalRetrans, // total_retrans
                    pacing, // pacing_rate
                    maxPacingRate(), // max_pacing_rate (SO_MAX_PACING_RATE): ~0, no limit
                    bytesAcked,
                    bytesReceived,
                    segsOut,
                    segsIn,
                    notsent, // notsent_bytes
                    minRttUs > 0 ? (int) Math.min(minRttUs, Integer.MAX_VALUE) : -1, // min_rtt: ~0 without a sample
                    dataSegsIn,
                    dataSegsOut,
                    rec.rate.deliveryRate(m), // delivery_rate, bytes per second
                    chronoUs(CHRONO_BUSY) + chronoUs(CHRONO_RWND_LIMITED) + chronoUs(CHRONO_SNDBUF_LIMITED), // busy_time, usec
                    chronoUs(CHRONO_RWND_LIMITED), // rwnd_limited, usec
                    chronoUs(CHRONO_SNDBUF_LIMITED), // sndbuf_limited, usec
                    delivered,
                    deliveredCe,
                    bytesSent,
                    bytesRetrans,
                    rec.dsackDups, // dsack_dups
                    rec.reordSeen, // reord_seen
                    rcvOoopack,
                    synced ? sndWnd : 0, // snd_wnd
                    rcvWnd, // rcv_wnd
                    0, // rehash
                    Math.min(totalRto, 0xffff), // total_rto
                    0, // total_rto_recoveries
                    0); // total_rto_time
        } finally {
            releaseSock();
        }
    }

    /** Milliseconds since {@code then}, 0 for never ({@code jiffies_to_msecs(now - stamp)}). */
    private static int age(long now, long then) {
        return then == 0 ? 0 : (int) Math.min(now - then, Integer.MAX_VALUE);
    }

    /**
     * The timer {@code inet_diag} reports: retransmission ("on"), the zero-window probe ("persist"),
     * an orphan's FIN-WAIT-2 ("timewait", as a timewait sock in that substate shows; TIME-WAIT is one),
     * else keepalive ("keepalive", with the probes sent).
     */
    @Override
    public SockTimer timer() {
        if (twTimer.pending() && state == TCP_FIN_WAIT2) {
            return new SockTimer(SockTimer.TIMEWAIT, twTimer.remainingMs(), 0);
        }
        if (rtxTimer.pending()) {
            boolean probe = state != TCP_SYN_SENT && state != TCP_SYN_RECV && sndUna == sndNxt && sndWnd == 0;
            return new SockTimer(probe ? SockTimer.PERSIST : SockTimer.ON, rtxTimer.remainingMs(), probe ? probesOut : retransmits);
        }
        if (keepaliveTimer.pending()) {
            return new SockTimer(SockTimer.KEEPALIVE, keepaliveTimer.remainingMs(), probesOut);
        }
        return SockTimer.NONE;
    }

    /** {@code icsk_ack.quick}: ACKs still to be sent at once ({@code /proc/net/tcp}'s qack column, doubled). */
    int quickAcks() {
        return quickAcks;
    }

    /** {@code inet_csk_in_pingpong_mode}: the connection is interactive (request/response) by net.ipv4.tcp_pingpong_thresh. */
    boolean inPingpong() {
        return pingpong >= net.pingpongThresh.get();
    }

    /** {@code inet_csk_enter_pingpong_mode}: interactive at once, as if threshold answers had been sent. */
    void enterPingpongMode() {
        pingpong = net.pingpongThresh.get();
    }

    /** {@code sk_get_meminfo} for a connection: unread bytes, bytes queued to send, the backlog. */
    @Override
    public long[] memInfo() {
        long queued = sbuf == null ? 0 : Integer.toUnsignedLong(writeSeq - sndUna);
        int unread = rbuf == null ? 0 : Math.max(rcvNxt - copiedSeq, 0);
        return new long[] { unread, rcvbuf(), wmemAlloc(), sndbuf(), 0, queued, 0, backlogBytes.get(), drops() };
    }

    /** The congestion control's name, as {@code ss -i} prints it. */
    @Override
    public String congestionControl() {
        return ca.name;
    }

    /** {@code tcp_chrono_set}: the time of the current type is added up, {@code type} starts now. */
    private void chronoSet(int type) {
        long now = net.core.nanoTime() / 1000;
        if (chronoType > CHRONO_UNSPEC) {
            chronoStat[chronoType] += now - chronoStartUs;
        }
        chronoStartUs = now;
        chronoType = type;
    }

    /** {@code tcp_chrono_start}: a more specific limit (busy, then the receive window, then the send buffer) takes over. */
    void chronoStart(int type) {
        if (type > chronoType) {
            chronoSet(type);
        }
    }

    /**
     * {@code tcp_chrono_stop}: nothing queued or in flight ends every chrono; the end of a limit while
     * data remains is plain busy time again.
     */
    void chronoStop(int type) {
        if (rec.q.packetsOut == 0 && !TcpSeq.after(writeSeq, sndNxt)) {
            if (chronoType != CHRONO_UNSPEC) {
                chronoSet(CHRONO_UNSPEC);
            }
        } else if (type == chronoType) {
            chronoSet(CHRONO_BUSY);
        }
    }

    /** The time in microseconds spent in {@code type}, the running period included ({@code tcp_get_info_chrono_stats}). */
    private long chronoUs(int type) {
        long t = chronoStat[type];
        if (chronoType == type) {
            t += net.core.nanoTime() / 1000 - chronoStartUs;
        }
        return t;
    }

    /** BBR's state for {@code ss -i} ({@code tcp_diag_get_aux}'s {@code get_info}); null for another algorithm. */
    @Override
    public long[] bbrInfo() {
        lockSock();
        try {
            if (!caInit) {
                return null;
            }
            org.modnet.api.tcp.TcpCcInfo info = ca.ops.info(cw);
            if (info == null || !"bbr".equals(info.name())) {
                return null;
            }
            return new long[] { info.bwBytesPerSec(), info.minRttUs(), info.pacingGain(), info.cwndGain() };
        } finally {
            releaseSock();
        }
    }

    @Override
    public String netid() {
        return "tcp";
    }

    // --- the socket lock (lock_sock / release_sock) ---

    /**
     * {@code lock_sock}. The holder is nearly always a softirq in the middle of one segment or a timer:
     * spinning, then yielding, then napping takes the lock when it lets go without queueing on the
     * lock, which would allocate a wait node on every contended acquire (the data path allocates
     * nothing).
     */
    void lockSock() {
        if (!lock.tryLock()) {
            relock(1);
        }
    }

    /** {@code release_sock}: segments that arrived while the user held the lock are processed first. */
    void releaseSock() {
        unlockSock(-1);
    }

    /**
     * Lets go of the socket lock from any context, as {@code release_sock} does: segments that another
     * CPU's softirq queued to the backlog meanwhile (to it every holder looks like a user) are processed
     * first, and again if one slipped in between the last look and the unlock. A timer, a listener or
     * a softirq that held the lock must let go this way too: a plain unlock leaves a segment queued until
     * the next one comes, and when that next one waits for this one (the ACK a sender waits for) the
     * connection stands still until a retransmission, or for ever when nothing is in flight.
     */
    void unlockSock(int cpu) {
        while (true) {
            Thread woken = null;
            boolean pollers = false;
            if (lock.getHoldCount() == 1) {
                wakeAtRelease = true;
                try {
                    drainBacklog(cpu);
                } finally {
                    wakeAtRelease = false;
                    woken = wokenAtRelease;
                    wokenAtRelease = null;
                    pollers = pollersAtRelease;
                    pollersAtRelease = false;
                }
            }
            lock.unlock();
            if (woken != null) {
                LockSupport.unpark(woken); // after the unlock: it takes the lock at once instead of spinning for it
            }
            if (pollers) {
                wakeUp(); // likewise a selector's thread, which reads the socket as soon as it runs
            }
            if (backlog.isEmpty() || lock.isHeldByCurrentThread() || !lock.tryLock()) {
                return;
            }
        }
    }

    /**
     * {@code tcp_add_backlog}'s bound (Linux 6.12): the backlog and the queued receive memory together
     * may reach twice SO_RCVBUF, half SO_SNDBUF and 64 KiB more, since only the lock's holder can
     * collapse or prune; the arriving segment itself is not counted, so even a large one can come.
     */
    private boolean backlogFull() {
        long limit = 2L * rcvbuf() + (sndbuf() >> 1) + 64 * 1024;
        return backlogBytes.get() + (long) rmemQueued() > limit;
    }

    private void drainBacklog(int cpu) {
        if (mtuReducedDeferred) { // tcp_release_cb's TCP_MTU_REDUCED_DEFERRED
            mtuReducedDeferred = false;
            TcpErr.mtuReduced(this, cpu < 0 ? Math.max(net.core.currentCpu(), 0) : cpu);
        }
        SkBuff skb;
        while ((skb = backlog.poll()) != null) {
            backlogBytes.addAndGet(-backlogTruesize(skb));
            process(skb, cpu);
        }
    }

    /**
     * The softirq's entry ({@code tcp_v4_rcv} after the lookup): processes the segment under the lock,
     * or queues it to the backlog while a user holds it ({@code sk_add_backlog}, bounded as
     * {@link #backlogFull} says; TCPBacklogDrop when full). The socket owns the skb from here.
     */
    void deliver(SkBuff skb, int cpu) {
        if (frozen) { // a segment the old version looked up as it handed over: never acknowledged, so the peer sends it again
            net.mib.inc(cpu, TcpMib.Ext.TCPBacklogDrop);
            net.drops.count(cpu, TcpDrops.Reason.SOCKET_BACKLOG);
            skb.free();
            return;
        }
        markNapiId(net.core.currentNapiId()); // sk_mark_napi_id, as tcp_v4_rcv does: where busy polling looks
        if (!lock.isHeldByCurrentThread() && lock.tryLock()) {
            wakeAtRelease = true; // the reader this segment wakes is unparked by unlockSock, once the lock is free
            try {
                drainBacklog(cpu); // what came before it first: never reorder a connection's segments
                process(skb, cpu);
            } finally {
                unlockSock(cpu);
            }
            return;
        }
        if (backlogFull()) {
            net.mib.inc(cpu, TcpMib.Ext.TCPBacklogDrop);
            net.drops.count(cpu, TcpDrops.Reason.SOCKET_BACKLOG);
            skb.free();
            return;
        }
        backlogBytes.addAndGet(backlogTruesize(skb));
        backlog.add(skb);
        // the owner may have released the lock before seeing the queued segment: take it over then; an
        // owner on its way to sleep (past await's backlog check) releases it in a moment, so wait for that
        // rather than leave the segment queued behind a sleeper nobody wakes
        while (!backlog.isEmpty() && !lock.isHeldByCurrentThread()) {
            if (lock.tryLock()) {
                try {
                    drainBacklog(cpu);
                } finally {
                    lock.unlock();
                }
            } else if (userSleeping) {
                Thread.onSpinWait();
            } else {
                break;
            }
        }
    }

    // --- states ---

    /** {@code tcp_set_state}: CurrEstab follows ESTABLISHED and CLOSE-WAIT; leaving them for CLOSE is EstabResets. */
    void setState(int s, int cpu) {
        int old = state;
        boolean was = old == TCP_ESTABLISHED || old == TCP_CLOSE_WAIT;
        boolean is = s == TCP_ESTABLISHED || s == TCP_CLOSE_WAIT;
        if (was && !is) {
            net.mib.add(cpu, TcpMib.Tcp.CurrEstab, -1);
            if (s == TCP_CLOSE) {
                net.mib.inc(cpu, TcpMib.Tcp.EstabResets);
            }
        } else if (!was && is) {
            net.mib.inc(cpu, TcpMib.Tcp.CurrEstab);
        }
        state = s;
        if (s == TCP_ESTABLISHED && !caInit) {
            congInit(cpu); // tcp_init_transfer -> tcp_init_congestion_control
        } else if ((s == TCP_CLOSE || s == TCP_TIME_WAIT) && caInit) {
            congRelease();
        }
    }

    // --- congestion control (tcp_cong.c's per-socket side) ---

    /** {@code tcp_init_congestion_control}: an algorithm unloaded since the socket chose it gives way to the default. */
    void congInit(int cpu) {
        if (ca.gone) { // unloaded since it was chosen: its new version if it was updated, else the default
            CongestionControl.Ca again = net.cong.find(ca.name);
            if (again != null) {
                ca = again;
            } else {
                ca = net.cong.dflt();
                net.mib.inc(cpu, TcpMib.Ext.TCPCongestionFallback);
            }
        }
        caState = TcpCongestion.CA_OPEN;
        if (rec.reordSeen == 0) {
            rec.reordering = net.reordering.get(); // tp->reordering starts at tcp_reordering
        }
        caPriv = ca.ops.init(cw);
        caInit = true;
    }

    /** {@code tcp_cleanup_congestion_control}. */
    private void congRelease() {
        try {
            ca.ops.release(cw);
        } finally {
            caInit = false;
            caPriv = null;
        }
    }

    /**
     * An ACK delivered {@code acked} segments and may grow the window ({@code tcp_cong_control} with
     * {@code pkts_acked}); {@code rttUs} is its RTT sample or -1. The recovery states are {@link
     * TcpRecovery}'s.
     */
    void congAck(int ack, int acked, long rttUs) {
        if (!caInit) { // the handshake's own ACK, before tcp_init_congestion_control
            TcpCongestion.renoCongAvoid(cw, acked);
            return;
        }
        var ops = ca.ops;
        ops.pktsAcked(cw, acked, rttUs);
        ops.congAvoid(cw, ack, acked); // which asks tcp_is_cwnd_limited (cw.isCwndLimited) first, as Linux's do
        updatePacingRate();
    }

    /**
     * {@code tcp_cong_control}'s first branch: an algorithm with its own {@code cong_control} (BBR) sees
     * every ACK with its rate sample, in any congestion state, and sets window and pacing rate itself.
     * False when it declines, and TCP's recovery and {@code cong_avoid} go on.
     */
    boolean congControl(int ack, int acked, long rttUs) {
        if (!caInit) {
            return false;
        }
        if (ca.ops.congControl(cw, ack, acked, rttUs)) {
            return true;
        }
        return false;
    }

    /**
     * {@code tcp_tso_segs}' floor: the algorithm's {@code min_tso_segs} if it has one, else
     * {@code net.ipv4.tcp_min_tso_segs}.
     */
    int minTsoSegs() {
        int m = caInit ? ca.ops.minTsoSegs(cw) : 0;
        return m > 0 ? m : net.minTsoSegs.get();
    }

    /**
     * {@code tcp_update_pacing_rate}: {@code mss * cwnd / srtt} scaled by {@code tcp_pacing_ss_ratio} (200%)
     * in slow start, when the window is below half of ssthresh, and {@code tcp_pacing_ca_ratio} (120%)
     * after, so the next round can grow; capped by {@code SO_MAX_PACING_RATE}.
     */
    void updatePacingRate() {
        if (srttUs <= 0) {
            return;
        }
        long rate = (long) Math.max(mss, 1) * (1_000_000L / 100); // the ratios are percentages
        rate *= cw.cwnd < cw.ssthresh / 2 ? net.pacingSsRatio.get() : net.pacingCaRatio.get();
        rate *= Math.max(cw.cwnd, rec.q.packetsOut);
        rate /= srttUs;
        long max = maxPacingRate();
        pacingRate = max >= 0 ? Math.min(rate, max) : rate;
    }

    /**
     * {@code tcp_set_congestion_control}: switches to {@code next}, re-initialising an established
     * connection ({@code tcp_reinit_congestion_control}). Caller holds the lock.
     */
    private void congSwitch(CongestionControl.Ca next, int cpu) {
        if (next == ca) {
            return;
        }
        if (caInit) {
            congRelease();
            ca = next;
            congInit(cpu);
        } else {
            ca = next;
        }
    }

    /**
     * The algorithm {@code left} was unloaded: a connection on it moves to the namespace's default and
     * is counted (TCPCongestionFallback). Returns whether this one moved.
     */
    boolean congFallback(CongestionControl.Ca left, int cpu) {
        lockSock();
        try {
            if (ca != left) {
                return false;
            }
            if (caInit) {
                try {
                    left.ops.release(cw);
                } catch (RuntimeException e) {
                    // the algorithm's bundle is going away: its state goes with it
                }
                caInit = false;
                caPriv = null;
                ca = net.cong.dflt();
                congInit(cpu);
            } else {
                ca = net.cong.dflt();
            }
            caLeft = left.name;
            net.mib.inc(cpu, TcpMib.Ext.TCPCongestionFallback);
            return true;
        } finally {
            releaseSock();
        }
    }

    /**
     * An algorithm registered under the name this connection fell back from (its bundle was updated):
     * the connection returns to it, its state made anew by the new version's init.
     */
    boolean congReturn(CongestionControl.Ca back, int cpu) {
        lockSock();
        try {
            if (caLeft == null || !caLeft.equals(back.name)) {
                return false;
            }
            caLeft = null;
            congSwitch(back, cpu);
            return true;
        } finally {
            releaseSock();
        }
    }

    /** {@code tcp_done}: the connection is over; it leaves the tables, its timers stop, sleepers wake. */
    void done(int cpu) {
        if (state == TCP_SYN_SENT || state == TCP_SYN_RECV && parent == null) { // a request sock's end is not counted
            net.mib.inc(cpu, TcpMib.Tcp.AttemptFails);
        }
        setState(TCP_CLOSE, cpu);
        setShutdown(RCV_SHUTDOWN | SEND_SHUTDOWN);
        net.orphans.remove(this);
        rtxTimer.del();
        delackTimer.del();
        twTimer.del();
        keepaliveTimer.del();
        pacingTimer.del();
        reclaimTimer.del(); // a closed connection's rings go with it
        if (hashed) {
            net.ehashRemove(this);
            hashed = false;
        }
        if (inSynQueue && parent != null) {
            parent.synQlen.decrementAndGet();
            inSynQueue = false;
        }
        if (portHeld && (isClosed() || parent != null)) {
            net.putPort(this, localPort);
            portHeld = false;
        }
        ofoCount = 0;
        ofoBytes = 0;
        memSync(cpu);
        wake();
    }

    void wake() {
        wakeSleepers();
        if (wakeAtRelease) {
            pollersAtRelease = true; // woken by unlockSock after the unlock
            return;
        }
        wakeUp();
    }

    /** The threads asleep in this socket's calls, without its poll and epoll waiters ({@link #wakeUp}). */
    void wakeSleepers() {
        SleepListener.notifyWoken(this, null);
        wakeups++;
        if (wakeAtRelease && sleeperCount == 1 && (wokenAtRelease == null || wokenAtRelease == sleepers[0])) {
            wokenAtRelease = sleepers[0]; // unparked by unlockSock after the unlock
            return;
        }
        for (int i = 0; i < sleeperCount; i++) {
            LockSupport.unpark(sleepers[i]);
        }
    }

    // --- bind, listen, accept ---

    /** {@code inet_bind}: a local address or 0.0.0.0, and a free port (EADDRINUSE). */
    @Override
    public void bind(SockAddr addr) throws SockException {
        Ipv4.AddressType t = net.ipv4.addressType(ns, addr.address());
        // inet_addr_valid_or_nonlocal: net.ipv4.ip_nonlocal_bind lets a socket bind an address not (yet) ours
        if (t != Ipv4.AddressType.LOCAL && t != Ipv4.AddressType.ANY && !net.ipv4.nonlocalBind(ns)) {
            throw SockException.of(Errno.EADDRNOTAVAIL);
        }
        lockSock();
        try {
            checkFrozen();
            if (localPort != 0 || state != TCP_CLOSE || isClosed()) {
                throw SockException.of(Errno.EINVAL);
            }
            localPort = net.getPort(this, addr.port(), addr.address());
            portHeld = true;
            boundAddress = addr.address();
            localAddress = addr.address();
        } finally {
            releaseSock();
        }
    }

    /** {@code inet_listen}: the backlog is bounded by {@code net.core.somaxconn}; an unbound socket gets a port. */
    @Override
    public void listen(int backlogLen) throws SockException {
        lockSock();
        try {
            checkFrozen();
            if (state != TCP_CLOSE && state != TCP_LISTEN) {
                throw SockException.of(Errno.EINVAL);
            }
            maxAckBacklog = Math.max(0, Math.min(backlogLen, net.somaxconn.get()));
            if (state == TCP_LISTEN) {
                return;
            }
            if (localPort == 0) {
                localPort = net.getPort(this, 0, boundAddress);
                portHeld = true;
            }
            if (net.listenConflicts(this)) {
                throw SockException.of(Errno.EADDRINUSE);
            }
            state = TCP_LISTEN;
            net.listenHash(this);
        } finally {
            releaseSock();
        }
    }

    /** {@code inet_csk_accept}: the first child of the accept queue; EAGAIN when none and non-blocking. */
    @Override
    public Sock accept(boolean nonBlock) throws SockException {
        long nanos = nonBlock ? 0 : timeoutNanos(SocketCalls.SO_RCVTIMEO);
        long deadline = System.nanoTime() + nanos;
        lockSock();
        try {
            while (true) {
                checkFrozen();
                if (state != TCP_LISTEN) {
                    throw SockException.of(Errno.EINVAL);
                }
                TcpSock child = acceptQueue.poll();
                if (child != null) {
                    child.parent = null;
                    net.created.add(child); // the user's now: found at a hand-over whatever its state
                    return child;
                }
                if (nanos == 0) {
                    throw SockException.of(Errno.EAGAIN);
                }
                await(nanos < 0 ? -1 : Math.max(0, deadline - System.nanoTime()));
            }
        } finally {
            releaseSock();
        }
    }

    private long timeoutNanos(int option) throws SockException {
        if (isNonBlocking()) {
            return 0;
        }
        long n = option == SocketCalls.SO_RCVTIMEO ? rcvTimeo() : sndTimeo();
        return n == 0 ? -1 : n;
    }

    /**
     * Sleeps on the socket (lock held, released while asleep); EAGAIN when {@code nanos} ran out. As
     * {@code sk_wait_event} releases the socket, segments that waited in the backlog (an ACK, a
     * SYN-ACK) are processed first, and the caller looks again instead of sleeping.
     */
    private void await(long nanos) throws SockException {
        checkFrozen();
        userSleeping = nanos != 0; // before the backlog check: a segment queued after it sees the flag (deliver)
        if (!backlog.isEmpty() && lock.getHoldCount() == 1) {
            userSleeping = false;
            drainBacklog(-1);
            return;
        }
        if (nanos == 0) {
            throw SockException.of(Errno.EAGAIN);
        }
        SleepListener.notifySleeping(this);
        Thread me = Thread.currentThread();
        addSleeper(me);
        int seen = wakeups;
        int holds = lock.getHoldCount();
        long deadline = nanos < 0 ? 0 : System.nanoTime() + nanos;
        try {
            while (wakeups == seen) {
                if (Thread.interrupted()) {
                    me.interrupt();
                    throw SockException.of(Errno.EINTR);
                }
                long left = nanos < 0 ? Long.MAX_VALUE : deadline - System.nanoTime();
                if (left <= 0) {
                    throw SockException.of(Errno.EAGAIN);
                }
                for (int i = 0; i < holds; i++) {
                    lock.unlock(); // the whole hold, as Condition.await releases it: segments now go to the socket
                }
                try {
                    park(me, nanos < 0 ? 0 : left);
                } finally {
                    relock(holds);
                }
            }
        } finally {
            removeSleeper(me);
            userSleeping = false;
            SleepListener.notifyAwake(this);
        }
        if (isClosed() && !frozen) {
            throw SockException.of(Errno.EBADF);
        }
        checkFrozen();
    }

    /**
     * Parks the caller ({@code nanos} 0: until unparked). A ForkJoinPool worker parks through
     * {@link java.util.concurrent.ForkJoinPool#managedBlock}, as the JDK's own blocking primitives do,
     * so the pool can start another worker meanwhile: a reader blocked in a pool of one worker (the
     * common pool on two CPUs) must not keep the writer that would wake it from ever running.
     */
    private void park(Thread me, long nanos) {
        if (!(me instanceof java.util.concurrent.ForkJoinWorkerThread)) {
            if (nanos == 0) {
                LockSupport.park(this);
            } else {
                LockSupport.parkNanos(this, nanos);
            }
            return;
        }
        try {
            java.util.concurrent.ForkJoinPool.managedBlock(new java.util.concurrent.ForkJoinPool.ManagedBlocker() {
                @Override
                public boolean block() {
                    if (nanos == 0) {
                        LockSupport.park(TcpSock.this);
                    } else {
                        LockSupport.parkNanos(TcpSock.this, nanos);
                    }
                    return true;
                }

                @Override
                public boolean isReleasable() {
                    return false;
                }
            });
        } catch (InterruptedException e) {
            me.interrupt(); // the caller's loop answers it with EINTR
        }
    }

    private void addSleeper(Thread t) {
        if (sleeperCount == sleepers.length) {
            sleepers = java.util.Arrays.copyOf(sleepers, sleepers.length * 2); // more sleepers than ever before: rare
        }
        sleepers[sleeperCount++] = t;
    }

    private void removeSleeper(Thread t) {
        for (int i = 0; i < sleeperCount; i++) {
            if (sleepers[i] == t) {
                sleepers[i] = sleepers[--sleeperCount];
                sleepers[sleeperCount] = null;
                return;
            }
        }
    }

    /** How long {@link #relock} spins, then yields, before it queues on the lock. */
    private static final int SPINS = 256;
    private static final int YIELDS = 1024;
    /** After that, naps of this long until the holder lets go (it was preempted, or is a user copying a big write). */
    private static final long LONG_HOLD_PARK_NANOS = 20_000;

    /**
     * Takes the socket lock back after a sleep, {@code holds} times. The waker usually still holds it
     * (it wakes us from inside its segment processing): a short spin with {@code tryLock} takes it
     * when the waker lets go, where {@code lock()} would queue a new node on each contended acquire.
     */
    private void relock(int holds) {
        for (int spins = 0; !lock.tryLock(); spins++) {
            if (spins < SPINS) {
                Thread.onSpinWait();
            } else if (spins < SPINS + YIELDS) {
                Thread.yield(); // the holder may need this CPU to finish
            } else {
                LockSupport.parkNanos(this, LONG_HOLD_PARK_NANOS); // a preempted holder: nap, never queue a node
            }
        }
        for (int i = 1; i < holds; i++) {
            lock.lock(); // reentrant: never contended
        }
    }

    // --- connect ---

    /**
     * {@code tcp_v4_connect} and {@code inet_stream_connect}: a route and a source address, a port, the
     * ISN of RFC 6528, the SYN; then wait for the handshake, or EINPROGRESS when non-blocking (poll
     * POLLOUT and read SO_ERROR). ECONNREFUSED when the peer resets, ETIMEDOUT after
     * {@code tcp_syn_retries}.
     */
    @Override
    public void connect(SockAddr addr) throws SockException {
        if (addr == null) {
            throw SockException.of(Errno.EAFNOSUPPORT);
        }
        lockSock();
        try {
            checkFrozen();
            switch (state) {
                case TCP_ESTABLISHED, TCP_CLOSE_WAIT, TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_CLOSING, TCP_LAST_ACK -> throw SockException.of(Errno.EISCONN);
                case TCP_LISTEN -> throw SockException.of(Errno.EINVAL);
                case TCP_SYN_SENT, TCP_SYN_RECV -> { // SYN-RECV: a simultaneous open
                    if (isNonBlocking()) {
                        throw SockException.of(Errno.EALREADY);
                    }
                    waitConnected();
                    return;
                }
                default -> {
                }
            }
            int err = takeError();
            if (err != 0 && remotePort != 0) { // a previous attempt failed: the socket may try again
                remotePort = 0;
            }
            Ipv4.OutputRoute route = net.ipv4.route(ns, addr.address(), boundAddress(), mark()); // through the rules: from, fwmark
            if (route.error() != null) {
                throw SockException.of(route.error());
            }
            routeDev = route.device();
            if (addr.port() == 0) {
                throw SockException.of(Errno.ECONNREFUSED);
            }
            localAddress = boundAddress != 0 ? boundAddress : route.source();
            boolean boundPort = localPort != 0;
            if (!boundPort) {
                localPort = net.connectPort(this, localAddress, addr.address(), addr.port());
                portHeld = true;
            }
            remoteAddress = addr.address();
            remotePort = addr.port();
            advmss = route.device() == null ? TcpOptions.MSS_DEFAULT : Math.min(route.device().mtu(), IPV4_MAX_PMTU) - 40;
            advmss = clampMss(advmss);
            sacks.clear();
            iss = net.isn.seq(localAddress, remoteAddress, localPort, remotePort);
            tsOff = net.isn.tsOff(net.timestamps.get(), localAddress, remoteAddress);
            if (!checkTimewait(boundPort)) {
                remoteAddress = 0;
                remotePort = 0;
                throw SockException.of(Errno.EADDRNOTAVAIL);
            }
            if (!net.ehashInsert(this)) {
                remoteAddress = 0;
                remotePort = 0;
                throw SockException.of(Errno.EADDRNOTAVAIL);
            }
            hashed = true;
            rx.clear();
            sndUna = iss;
            sndNxt = iss + 1;
            sndMax = sndNxt;
            writeSeq = iss + 1;
            sbase = iss + 1;
            retransHigh = iss;
            selectInitialWindow(advmss, true);
            allocRings();
            state = TCP_SYN_SENT;
            retransmits = 0;
            rtoMs = RTO_INIT_MS;
            int c = net.core.currentCpu();
            net.mib.inc(c, TcpMib.Tcp.ActiveOpens);
            output.sendSyn(c, false);
            rtxTimer.mod(rtoMs);
            if (isNonBlocking()) {
                throw SockException.of(Errno.EINPROGRESS);
            }
            waitConnected();
        } finally {
            releaseSock();
        }
    }

    private void waitConnected() throws SockException {
        long nanos = timeoutNanos(SocketCalls.SO_SNDTIMEO);
        long deadline = System.nanoTime() + nanos;
        while (state == TCP_SYN_SENT || state == TCP_SYN_RECV && parent == null) { // SYN-RECV: a simultaneous open
            try {
                await(nanos < 0 ? -1 : Math.max(0, deadline - System.nanoTime()));
            } catch (SockException e) {
                // frozen for a hand-over: EAGAIN, so the socket layer waits on the new socket instead
                throw e.errno() == Errno.EAGAIN && !frozen ? SockException.of(Errno.EINPROGRESS) : e;
            }
        }
        int err = takeError();
        if (err != 0) {
            throw SockException.of(Errno.of(err));
        }
    }

    /** {@code TCP_RMEM_TO_WIN_SCALE}, and {@code TCP_DEFAULT_SCALING_RATIO}: half of a buffer is window until measured. */
    static final int TCP_RMEM_TO_WIN_SCALE = 8;
    /** {@code TCP_MIN_MSS}. */
    static final int TCP_MIN_MSS = 88;
    /** A page: Linux's skb of page frags, for the truesize the scaling ratio is measured against. */
    private static final int PAGE_SIZE = 4096;
    static final int TCP_DEFAULT_SCALING_RATIO = 1 << (TCP_RMEM_TO_WIN_SCALE - 1);
    /** {@code SOCK_MIN_RCVBUF / 2}: the least TCP_WINDOW_CLAMP takes. */
    static final int MIN_WINDOW_CLAMP = 2304;

    /** {@code tcp_win_from_space}: the window {@code space} bytes of buffer hold at the scaling ratio. */
    int winFromSpace(int space) {
        return (int) ((long) space * scalingRatio >> TCP_RMEM_TO_WIN_SCALE);
    }

    /** {@code tcp_space}: the window the free buffer holds (negative when over it): unread, out-of-order and backlog bytes taken. */
    int tcpSpace() {
        return winFromSpace(rcvbuf() - backlogBytes.get() - rmemQueued());
    }

    /** {@code tcp_full_space}: the window the whole buffer holds. */
    int fullSpace() {
        return winFromSpace(rcvbuf());
    }

    /**
     * {@code tcp_select_initial_window} (with {@code tcp_connect_init}'s and {@code
     * tcp_openreq_init_rwin}'s clamp for a buffer the user set): the SYN's window, the whole buffer's
     * window at the default ratio rounded down to the MSS; the window scale for the largest buffer the
     * connection may reach ({@code tcp_rmem[2]} or {@code rmem_max}, whichever is more) within the
     * clamp; {@code rcv_ssthresh} starts at the SYN's window.
     */
    void selectInitialWindow(int mss, boolean wscaleOk) {
        int clamp = initialClamp(windowClamp);
        rcvWnd = initialRcvWnd(mss, clamp);
        rcvWscale = wscaleOk ? initialWscale(rcvWnd, clamp) : 0;
        windowClamp = Math.min(0xffff << rcvWscale, clamp);
        rcvSsthresh = rcvWnd;
    }

    /** The clamp the initial window obeys: TCP_WINDOW_CLAMP, the buffer's window if the user set the buffer, else none. */
    private int initialClamp(int clamp) {
        int space = fullSpace();
        if ((userLocks() & SOCK_RCVBUF_LOCK) != 0 && (clamp > space || clamp == 0)) {
            clamp = space;
        }
        return clamp == 0 ? 0xffff << TcpOptions.MAX_WSCALE : clamp;
    }

    /** The SYN's {@code rcv_wnd}: the buffer's window within the clamp, a multiple of the MSS (tcp_workaround_signed_windows 0). */
    private int initialRcvWnd(int mss, int clamp) {
        int space = Math.max(Math.min(clamp, fullSpace()), 0);
        return mss > 0 && space > mss ? space - space % mss : space;
    }

    /** The window scale for the largest buffer the connection may reach, within the clamp. */
    private int initialWscale(int space, int clamp) {
        if (net.windowScaling.get() == 0) {
            return 0;
        }
        long most = Math.min(Math.max(Math.max(space, net.rmem.get()[2]), net.rmemMax.get()), clamp);
        return Math.max(0, Math.min(63 - Long.numberOfLeadingZeros(Math.max(most, 1)) - 15, TcpOptions.MAX_WSCALE));
    }

    /**
     * The receive ring's most: a power of two that holds the whole buffer (what the window at any
     * scaling ratio promises, and the out-of-order bytes beyond), allocated only as data needs it.
     */
    static int rcvRingSize(int bytes) {
        int n = Integer.highestOneBit(Math.max(bytes, 4096) - 1) << 1;
        return Math.min(n, 1 << 24);
    }

    static int ringSize(int bytes) {
        int n = Integer.highestOneBit(Math.max(bytes, 4096));
        return Math.min(n, 1 << 24);
    }

    /**
     * The handshake is over (or under way): the rings may now hold data. They come empty ({@link
     * TcpRings#NONE}) and are allocated with the first byte each must hold ({@link #sndRingReserve},
     * {@link #rcvRingReserve}): an idle connection holds no buffer, as Linux holds no skb for it.
     */
    void allocRings() {
        if (sbuf == null) {
            sbuf = TcpRings.NONE;
            rbuf = TcpRings.NONE;
            rbufLimit = rcvRingSize(rcvbuf());
        }
    }

    // --- the handshake from the listener's side (tcp_v4_conn_request, tcp_v4_syn_recv_sock) ---

    /**
     * A SYN to this listener: a full accept queue is ListenOverflows and ListenDrops, a full SYN queue
     * ({@code tcp_max_syn_backlog}, and the listen backlog) TCPReqQFullDrop and ListenDrops; otherwise a
     * child in SYN-RECV is hashed and answers with a SYN-ACK carrying the options we agree to.
     */
    private void connRequest(SkBuff skb, int cpu) {
        int th = skb.data();
        int nh = skb.networkHeader();
        int saddr = skb.getU32(nh + 12);
        int daddr = skb.getU32(nh + 16);
        int acceptLen = acceptQueue.size();
        if (acceptLen >= maxAckBacklog) {
            net.mib.inc(cpu, TcpMib.Ext.ListenOverflows);
            net.mib.inc(cpu, TcpMib.Ext.ListenDrops);
            drop = TcpDrops.Reason.TCP_LISTEN_OVERFLOW;
            return;
        }
        int twIsn = net.deathRow.takeIsn(cpu);
        boolean full = synQlen.get() >= Math.min(Math.max(maxAckBacklog, 8), net.maxSynBacklog.get());
        if ((full || net.syncookies.get() == 2) && twIsn == 0) {
            if (synFloodAction(cpu)) {
                sendCookie(skb, saddr, daddr, cpu);
                return;
            }
            net.mib.inc(cpu, TcpMib.Ext.ListenDrops);
            drop = TcpDrops.Reason.TCP_LISTEN_OVERFLOW;
            return;
        }
        TcpSock child = new TcpSock(net);
        try {
            child.setBuffers(sndbuf(), rcvbuf(), userLocks()); // sk_clone: the listener's sizes and locks
            child.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEADDR, new int[] { reuseAddr() ? 1 : 0 });
        } catch (SockException e) {
            return;
        }
        child.localAddress = daddr;
        child.localPort = localPort;
        child.remoteAddress = saddr;
        child.remotePort = skb.getU16(th + TcpHeader.SOURCE);
        child.boundAddress = daddr;
        child.parent = this;
        child.inheritOptions(this);
        TcpOptions o = child.rx;
        o.clear();
        o.parse(skb, th, false, net.optionSysctls());
        if (o.illegalWscale != 0) {
            net.countIllegalWscale();
        }
        o.tstampOk = o.sawTstamp;
        if (!o.wscaleOk) {
            o.sndWscale = 0;
        }
        child.tsRecent = o.rcvTsval;
        child.tsRecentStampMs = nowMs();
        child.ecnFlags = TcpEcn.createRequest(net, skb) ? TcpEcn.TCP_ECN_OK : 0; // tcp_ecn_create_request, then tcp_ecn_openreq_child
        child.irs = skb.getU32(th + TcpHeader.SEQ);
        child.rcvNxt = child.irs + 1;
        child.copiedSeq = child.rcvNxt;
        child.rbase = child.rcvNxt;
        child.iss = twIsn != 0 ? twIsn : net.isn.seq(daddr, saddr, localPort, child.remotePort);
        child.tsOff = net.isn.tsOff(net.timestamps.get(), daddr, saddr);
        child.sndUna = child.iss;
        child.sndNxt = child.iss + 1;
        child.sndMax = child.sndNxt;
        child.writeSeq = child.iss + 1;
        child.sbase = child.iss + 1;
        child.retransHigh = child.iss;
        child.sndWnd = skb.getU16(th + TcpHeader.WINDOW);
        child.sndWl1 = child.irs;
        child.maxWindow = child.sndWnd;
        Ipv4.OutputRoute route = net.ipv4.route(ns, saddr);
        child.routeDev = route.device();
        child.advmss = route.device() == null ? TcpOptions.MSS_DEFAULT : Math.min(route.device().mtu(), IPV4_MAX_PMTU) - 40;
        child.advmss = child.clampMss(child.advmss);
        child.mss = TcpErr.optionMss(child); // child.rx is o
        TcpErr.initMss(child);
        child.windowClamp = windowClamp; // sk_clone: the listener's TCP_WINDOW_CLAMP
        child.selectInitialWindow(child.advmss - (o.tstampOk ? TcpOutOptions.ALIGNED_TSTAMP : 0), o.wscaleOk);
        // the rings come when the handshake completes: a SYN costs no buffers (a flood stays cheap)
        child.state = TCP_SYN_RECV;
        if (!net.ehashInsert(child)) {
            return;
        }
        child.hashed = true;
        net.inheritPort(child, localPort);
        child.portHeld = true;
        child.inSynQueue = true;
        synQlen.incrementAndGet();
        child.lock.lock();
        try {
            child.output.sendSyn(cpu, false);
            child.rtxTimer.mod(child.rtoMs);
        } finally {
            child.unlockSock(cpu);
        }
    }

    /**
     * The handshake's last ACK reached a child ({@code tcp_check_req}, {@code inet_csk_complete_hashdance}):
     * it joins its listener's accept queue, or stays in SYN-RECV when the queue is full (ListenOverflows)
     * so its SYN-ACK is sent again; a closed listener resets it.
     */
    boolean joinAcceptQueue(int cpu) {
        TcpSock l = parent;
        if (l == null) {
            return true;
        }
        l.lock.lock();
        try {
            if (l.state != TCP_LISTEN || l.isClosed()) {
                return false;
            }
            if (l.acceptQueue.size() >= l.maxAckBacklog) {
                net.mib.inc(cpu, TcpMib.Ext.ListenOverflows);
                net.mib.inc(cpu, TcpMib.Ext.ListenDrops);
                return false;
            }
            l.acceptQueue.add(this);
            if (inSynQueue) {
                l.synQlen.decrementAndGet();
                inSynQueue = false;
            }
            l.wake();
        } finally {
            l.unlockSock(cpu);
        }
        return true;
    }

    // --- segment processing (tcp_v4_do_rcv) ---

    private void process(SkBuff skb, int cpu) {
        drop = null;
        passedOn = false;
        countIn(skb);
        try {
            switch (state) {
                case TCP_LISTEN -> listenRcv(skb, cpu);
                case TCP_SYN_SENT -> input.synSentRcv(skb, cpu);
                case TCP_CLOSE -> closedRcv(skb, cpu);
                default -> input.rcvStateProcess(skb, cpu);
            }
        } finally {
            if (!passedOn) {
                net.drops.count(cpu, drop);
            }
            skb.free();
        }
    }

    private void listenRcv(SkBuff skb, int cpu) {
        int flags = skb.getU8(skb.data() + TcpHeader.FLAGS);
        if ((flags & TcpHeader.RST) != 0) {
            drop = TcpDrops.Reason.TCP_RESET;
            return;
        }
        if ((flags & TcpHeader.ACK) != 0) {
            if ((flags & TcpHeader.SYN) == 0 && cookieCheck(skb, cpu)) {
                return;
            }
            TcpProtocol.sendReset(net, skb, cpu); // no request for it: RFC 9293 3.10.7.2
            drop = TcpDrops.Reason.TCP_FLAGS;
            return;
        }
        // SYN+FIN is dropped, as Linux's tcp_rcv_state_process does: no request sock for a scan's probe
        if ((flags & (TcpHeader.SYN | TcpHeader.FIN)) == TcpHeader.SYN && !isClosed()) {
            connRequest(skb, cpu);
            return;
        }
        drop = TcpDrops.Reason.TCP_FLAGS;
    }

    // --- memory charged (sk_rmem_alloc, tcp_mem) ---

    /** {@code sk_rmem_alloc}: unread bytes in the receive ring and the out-of-order bytes beyond them. */
    int rmemQueued() {
        return (rbuf == null ? 0 : Math.max(readable(), 0)) + ofoBytes; // the FIN's sequence number holds no byte
    }

    /**
     * Charges the change in this connection's queued bytes to the namespace's {@link TcpMem}: unread and
     * out-of-order bytes, and unacknowledged ones in the send ring. A closed connection holds nothing.
     */
    void memSync(int cpu) {
        long queued = 0;
        if (state != TCP_CLOSE) {
            queued = rmemQueued() + (sbuf == null ? 0 : Math.max(writeSeq - sndUna, 0));
        }
        if (queued != memCharged) {
            net.tmem.charge(queued - memCharged, cpu);
            memCharged = queued;
        }
    }

    /** {@code sk_rmem_schedule}: below {@code tcp_mem[2]}, or this socket holds less than {@code tcp_rmem[0]}. */
    boolean memAllowed(int size) {
        return !net.tmem.overLimit(size) || rmemQueued() + size <= net.rmem.get()[0];
    }

    /** TIME-WAIT: a light {@link TcpTimewaitSock} lingers for 2MSL in the connection's place ({@link #timeWait}). */
    void enterTimewait(int cpu) {
        if (state == TCP_FIN_WAIT2) {
            output.sendAck(cpu); // tcp_fin: the FIN is acknowledged before the sock gives way
        }
        timeWait(TCP_TIME_WAIT, TIMEWAIT_MS, cpu);
    }

    // --- the user's data ---

    @Override
    public int sendmsg(ByteBuffer[] iov, SockAddr to, int flags) throws SockException {
        int total = 0;
        for (int i = 0; i < iov.length; i++) {
            int want = iov[i].remaining();
            int n = sendOne(iov[i], flags, total > 0, i == iov.length - 1);
            total += n;
            if (n < want) {
                break;
            }
        }
        return total;
    }

    @Override
    public int send(ByteBuffer buf, SockAddr to, int flags) throws SockException {
        return sendOne(buf, flags, false, true);
    }

    /**
     * {@code tcp_sendmsg}: copies into the send ring as room allows (bounded by SO_SNDBUF), sending as
     * the windows allow; blocks for room unless non-blocking (EAGAIN when nothing fit). Before the
     * handshake completes it waits for it; EPIPE after {@code shutdown(SHUT_WR)} or the end of the
     * connection, after a pending error (ECONNRESET) is returned.
     */
    private int sendOne(ByteBuffer buf, int flags, boolean already, boolean endOfWrite) throws SockException {
        boolean nonBlock = (flags & SocketCalls.MSG_DONTWAIT) != 0 || isNonBlocking();
        boolean more = (flags & SocketCalls.MSG_MORE) != 0;
        long nanos = nonBlock ? 0 : timeoutNanos(SocketCalls.SO_SNDTIMEO);
        long deadline = System.nanoTime() + nanos;
        int copied = 0;
        lockSock();
        try {
            rec.rate.checkAppLimited(TcpSeq.after(writeSeq, sndNxt) ? writeSeq - sndNxt : 0, Math.max(mss, 1),
                    rec.inFlight(), cw.cwnd, rec.q.lostOut, rec.q.retransOut, delivered); // tcp_sendmsg_locked: application-limited?
            while (buf.hasRemaining()) {
                if (frozen) { // handed over while this call waited for the lock: the rest goes to the new socket
                    if (copied > 0) {
                        break;
                    }
                    checkFrozen();
                }
                int err = takeError();
                if (err != 0) {
                    if (copied > 0 || already) {
                        reportError(Errno.of(err));
                        break;
                    }
                    throw SockException.of(Errno.of(err));
                }
                if ((shutdownBits() & SEND_SHUTDOWN) != 0 || state == TCP_CLOSE && remotePort != 0) {
                    if (copied > 0) {
                        break;
                    }
                    throw SockException.of(Errno.EPIPE);
                }
                if (state == TCP_SYN_SENT || state == TCP_SYN_RECV) {
                    if (nanos == 0) {
                        throw SockException.of(Errno.EAGAIN);
                    }
                    await(nanos < 0 ? -1 : Math.max(0, deadline - System.nanoTime()));
                    continue;
                }
                if (state != TCP_ESTABLISHED && state != TCP_CLOSE_WAIT) {
                    throw SockException.of(Errno.EPIPE); // sk_stream_wait_connect
                }
                int room = sndRingLimit() - (writeSeq - sndUna);
                if (room <= 0) {
                    noSpace = true; // sk_stream_wait_memory: the next ACK that frees room may expand the buffer
                    chronoStart(CHRONO_SNDBUF_LIMITED);
                    if (copied > 0) {
                        push.mark(writeSeq); // wait_for_space: tcp_push(flags & ~MSG_MORE) marks what was written
                    }
                    if (copied > 0 || nanos == 0) {
                        if (copied > 0) {
                            break;
                        }
                        throw SockException.of(Errno.EAGAIN);
                    }
                    await(nanos < 0 ? -1 : Math.max(0, deadline - System.nanoTime()));
                    continue;
                }
                int n = Math.min(room, buf.remaining());
                output.pushAppend(copied == 0 && !already);
                sndRingReserve(writeSeq - sndUna + n);
                int at = (writeSeq - sbase) & (sbuf.length - 1);
                int first = Math.min(n, sbuf.length - at);
                buf.get(sbuf, at, first);
                if (first < n) {
                    buf.get(sbuf, 0, n - first);
                }
                writeSeq += n;
                copied += n;
                memSync(net.core.currentCpu());
                // tcp_push at the end of the write marks PSH on its tail, unless MSG_MORE (which also
                // holds a partial segment back for this push, as TCP_CORK would)
                output.pushWrote(n, endOfWrite && !buf.hasRemaining() && !more);
                corkOnce = more;
                try {
                    output.writeXmit(net.core.currentCpu());
                } finally {
                    corkOnce = false;
                }
            }
        } finally {
            releaseSock();
        }
        return copied;
    }

    @Override
    public int recv(ByteBuffer buf, SockAddr[] from, int flags) throws SockException {
        return read(buf, null, from, flags);
    }

    @Override
    public int recvmsg(ByteBuffer[] iov, SockAddr[] from, int flags, int[] msgFlags) throws SockException {
        return read(null, iov, from, flags);
    }

    /**
     * {@code tcp_recvmsg}: what is in order in the receive ring, as much as fits; waits while there is
     * none (unless non-blocking or MSG_DONTWAIT: EAGAIN), 0 at the end of the stream. MSG_PEEK leaves the
     * bytes. A read that opens the window enough announces it ({@code tcp_cleanup_rbuf}).
     */
    private int read(ByteBuffer one, ByteBuffer[] iov, SockAddr[] from, int flags) throws SockException {
        boolean peek = (flags & SocketCalls.MSG_PEEK) != 0;
        boolean nonBlock = (flags & SocketCalls.MSG_DONTWAIT) != 0 || isNonBlocking();
        boolean waitAll = (flags & SocketCalls.MSG_WAITALL) != 0 && !peek;
        long nanos = nonBlock ? 0 : timeoutNanos(SocketCalls.SO_RCVTIMEO);
        long deadline = System.nanoTime() + nanos;
        int copied = 0;
        int busy = busyPollUsecs();
        if (busy > 0 && !nonBlock && state == TCP_ESTABLISHED && readable() == 0) {
            // tcp_recvmsg's sk_busy_loop, before lock_sock: poll the queue this socket receives from ourselves
            net.core.napiBusyLoop(napiId(), busyReadEnd, busy * 1000L, preferBusyPoll(), busyPollBudget()); // sk_busy_loop: the socket's own prefer and budget
        }
        lockSock();
        try {
            while (true) {
                if (frozen) {
                    if (copied > 0) {
                        return copied;
                    }
                    checkFrozen();
                }
                if (state == TCP_LISTEN) {
                    throw SockException.of(Errno.ENOTCONN);
                }
                int avail = readable();
                if (avail > 0) {
                    int n = one != null ? copyOut(one, avail, peek) : copyOut(iov, avail, peek);
                    if (from != null && from.length > 0) {
                        from[0] = remoteAddress();
                    }
                    if (!peek && n > 0) {
                        copiedSeq += n;
                        input.rcvSpaceAdjust();
                        cleanupRbuf(net.core.currentCpu(), n);
                        memSync(net.core.currentCpu());
                        ringEmptied();
                    }
                    copied += n;
                    if (!waitAll || n == 0 || !hasRemaining(one, iov)) {
                        return copied;
                    }
                    continue; // MSG_WAITALL: reading made room; wait for the rest
                }
                if (copied > 0 && (hasError() || (shutdownBits() & RCV_SHUTDOWN) != 0 || state == TCP_CLOSE || nanos == 0)) {
                    return copied; // what was read counts; the error or the end comes with the next call
                }
                if (copied > 0) {
                    try {
                        await(nanos < 0 ? -1 : Math.max(0, deadline - System.nanoTime()));
                    } catch (SockException e) {
                        if (e.errno() == Errno.EBADF) {
                            throw e;
                        }
                        return copied; // SO_RCVTIMEO or a signal after some bytes: the count
                    }
                    continue;
                }
                int err = takeError();
                if (err != 0) {
                    throw SockException.of(Errno.of(err));
                }
                if ((shutdownBits() & RCV_SHUTDOWN) != 0 || state == TCP_CLOSE) {
                    if (state == TCP_CLOSE && remotePort == 0 && !finReceived) {
                        throw SockException.of(Errno.ENOTCONN);
                    }
                    return 0;
                }
                if (nanos == 0) {
                    throw SockException.of(Errno.EAGAIN);
                }
                ByteBuffer lend = peek ? null : one != null ? one : iov.length == 1 ? iov[0] : null;
                int n = lend == null ? 0 : awaitUcopy(lend, nanos < 0 ? -1 : Math.max(0, deadline - System.nanoTime()));
                if (lend == null) {
                    await(nanos < 0 ? -1 : Math.max(0, deadline - System.nanoTime()));
                }
                if (n > 0) {
                    copied += n;
                    if (!waitAll || !hasRemaining(one, iov)) {
                        return copied;
                    }
                }
            }
        } finally {
            releaseSock();
        }
    }

    /**
     * Sleeps as {@link #await} with {@code buf} lent to the softirq ({@code tp->ucopy}, as Linux's
     * prequeue let the sleeping reader's own buffer take in-order data): the bytes it put there, after
     * the same bookkeeping as a read from the ring. An error or a timeout after some bytes arrived
     * returns the bytes; the error comes with the next call.
     */
    private int awaitUcopy(ByteBuffer buf, long nanos) throws SockException {
        ucopyBuf = buf;
        ucopied = 0;
        try {
            await(nanos);
        } catch (SockException e) {
            if (ucopied == 0 || e.errno() == Errno.EBADF) {
                throw e;
            }
        } finally {
            ucopyBuf = null;
        }
        int n = ucopied;
        ucopied = 0;
        if (n > 0) {
            int cpu = net.core.currentCpu();
            input.rcvSpaceAdjust();
            cleanupRbuf(cpu, n);
            memSync(cpu);
            if (rbuf != null) {
                ringEmptied();
            }
        }
        return n;
    }

    /**
     * From {@code tcp_data_queue}, under the lock: up to {@code n} in-order bytes of {@code skb} at
     * {@code offset} straight into the buffer a sleeping reader lent ({@link #awaitUcopy}), when it
     * has read everything before them; {@code copied_seq} moves with {@code rcv_nxt}. What went.
     */
    int ucopy(SkBuff skb, int offset, int n) {
        ByteBuffer b = ucopyBuf;
        if (b == null || copiedSeq != rcvNxt || ofoCount != 0 || frozen) {
            return 0;
        }
        int k = Sock.copyOut(skb, offset, n, b);
        ucopied += k;
        copiedSeq += k;
        if (!b.hasRemaining()) {
            ucopyBuf = null; // full: the rest goes to the ring
        }
        return k;
    }

    private static boolean hasRemaining(ByteBuffer one, ByteBuffer[] iov) {
        if (one != null) {
            return one.hasRemaining();
        }
        for (ByteBuffer b : iov) {
            if (b.hasRemaining()) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code tcp_ioctl}: SIOCINQ the bytes in order not yet read, SIOCOUTQ those not yet acknowledged,
     * SIOCOUTQNSD those not yet sent (a FIN counts one, as its sequence number does); EINVAL for a
     * listener, 0 during the handshake.
     */
    @Override
    public int ioctl(int request) throws SockException {
        if (request != SocketCalls.SIOCINQ && request != SocketCalls.SIOCOUTQ && request != SocketCalls.SIOCOUTQNSD) {
            return super.ioctl(request);
        }
        lockSock();
        try {
            if (state == TCP_LISTEN) {
                throw SockException.of(Errno.EINVAL);
            }
            if (state == TCP_SYN_SENT || state == TCP_SYN_RECV || sbuf == null) {
                return 0;
            }
            int end = writeSeq + (finQueued ? 1 : 0);
            return switch (request) {
                case SocketCalls.SIOCINQ -> Math.max(readable(), 0);
                case SocketCalls.SIOCOUTQ -> end - sndUna;
                default -> TcpSeq.after(end, sndNxt) ? end - sndNxt : 0;
            };
        } finally {
            releaseSock();
        }
    }

    /** Bytes in order not yet read (the FIN is not one). */
    /** What ends a blocking read's busy poll: bytes to read, or the connection left ESTABLISHED or failed (read without the lock). */
    private final java.util.function.BooleanSupplier busyReadEnd = new BusyReadEnd(this); // a class: see the timers' in the constructor

    private static final class BusyReadEnd implements java.util.function.BooleanSupplier {
        private final TcpSock sk;

        BusyReadEnd(TcpSock sk) {
            this.sk = sk;
        }

        @Override
        public boolean getAsBoolean() {
            return sk.readable() > 0 || sk.state != TCP_ESTABLISHED || sk.hasError();
        }
    }

    private int readable() {
        if (rbuf == null) {
            return 0;
        }
        return rcvNxt - copiedSeq - (finReceived ? 1 : 0);
    }

    private int copyOut(ByteBuffer b, int avail, boolean peek) {
        int n = Math.min(b.remaining(), avail);
        int at = (copiedSeq - rbase) & (rbuf.length - 1);
        int first = Math.min(n, rbuf.length - at);
        b.put(rbuf, at, first);
        if (first < n) {
            b.put(rbuf, 0, n - first);
        }
        return n;
    }

    private int copyOut(ByteBuffer[] iov, int avail, boolean peek) {
        int done = 0;
        int saved = copiedSeq;
        for (ByteBuffer b : iov) {
            int n = copyOut(b, avail - done, peek);
            done += n;
            copiedSeq += n;
        }
        copiedSeq = saved;
        return done;
    }

    /**
     * {@code tcp_cleanup_rbuf}: a window update when the window announced has fallen to half of the
     * window clamp or less and reading at least doubled what {@code __tcp_select_window} offers — Linux's
     * "raised significantly". Not on every read that frees two segments: a bulk receiver taking 64 KB
     * GSO frames would send an update per read on top of the ACK per frame.
     */
    private void cleanupRbuf(int cpu, int copied) {
        // an ACK the input held back: more than one segment since the last one (the ACK per two segments
        // that __tcp_ack_snd_check leaves to the read), or the read emptied the queue of a pushed segment
        // (PUSHED2, or PUSHED on a connection that is not interactive: a request's answer carries its ACK)
        if (ackPending && (rcvdSinceAck > ackRcvMss()
                || copied > 0 && ((ackPushed & ACK_PUSHED2) != 0 || (ackPushed & ACK_PUSHED) != 0 && !inPingpong())
                        && rmemQueued() == 0)) {
            output.sendAck(cpu);
            return;
        }
        if (state == TCP_CLOSE || (shutdownBits() & RCV_SHUTDOWN) != 0) {
            return; // nothing more comes: an opened window is useless (tcp_cleanup_rbuf says the same)
        }
        int announced = Math.max(rcvWndRight - rcvNxt, 0); // tcp_receive_window
        if (2L * announced <= Integer.toUnsignedLong(windowClamp)) {
            int free = output.freeWindow(); // __tcp_select_window: zero when under a segment is free
            if (free != 0 && free >= 2L * announced) {
                output.sendAck(cpu);
            }
        }
    }

    @Override
    public int available() {
        lockSock();
        try {
            return state == TCP_LISTEN ? 0 : readable();
        } finally {
            releaseSock();
        }
    }

    /**
     * {@code tcp_poll}: a listener is readable with a child to accept; a connection readable with bytes
     * in order or after the peer's FIN, writable with room in the send ring once connected, HUP when shut
     * both ways or closed, ERR with a pending error.
     */
    @Override
    public int poll() {
        if (isClosed()) {
            return SocketCalls.POLLNVAL;
        }
        lockSock();
        try {
            int mask = 0;
            if (state == TCP_LISTEN) {
                return acceptQueue.isEmpty() ? 0 : SocketCalls.POLLIN | SocketCalls.POLLRDNORM;
            }
            int sh = shutdownBits();
            if (sh == (RCV_SHUTDOWN | SEND_SHUTDOWN) || state == TCP_CLOSE) {
                mask |= SocketCalls.POLLHUP;
            }
            if ((sh & RCV_SHUTDOWN) != 0) {
                mask |= SocketCalls.POLLIN | SocketCalls.POLLRDNORM | SocketCalls.POLLRDHUP;
            }
            if (state != TCP_SYN_SENT && state != TCP_SYN_RECV) {
                if (readable() > 0) {
                    mask |= SocketCalls.POLLIN | SocketCalls.POLLRDNORM;
                }
                if ((sh & SEND_SHUTDOWN) == 0) {
                    if (sbuf != null && sndRingLimit() - (writeSeq - sndUna) > 0) {
                        mask |= SocketCalls.POLLOUT | SocketCalls.POLLWRNORM;
                    } else {
                        noSpace = true; // tcp_poll: a writer waits for room
                    }
                } else {
                    mask |= SocketCalls.POLLOUT | SocketCalls.POLLWRNORM;
                }
            }
            if (hasError()) {
                mask |= SocketCalls.POLLERR;
            }
            return mask;
        } finally {
            releaseSock();
        }
    }

    @Override
    public int recvQueue() {
        return state == TCP_LISTEN ? acceptQueue.size() : Math.max(readable(), 0);
    }

    @Override
    public int sendQueue() {
        return state == TCP_LISTEN ? maxAckBacklog : sbuf == null ? 0 : Math.max(writeSeq - sndUna, 0); // an acknowledged FIN is no byte
    }

    // --- shutdown and close ---

    /** {@code tcp_shutdown}: SHUT_WR sends our FIN after the queued bytes (FIN-WAIT-1 or LAST-ACK). */
    @Override
    public void shutdown(int how) throws SockException {
        if (how < SocketCalls.SHUT_RD || how > SocketCalls.SHUT_RDWR) {
            throw SockException.of(Errno.EINVAL);
        }
        ArrayDeque<TcpSock> children = null;
        lockSock();
        try {
            int s = state;
            if (s == TCP_CLOSE || s == TCP_LISTEN || s == TCP_SYN_SENT) {
                if (s == TCP_LISTEN && how != SocketCalls.SHUT_WR) {
                    children = closeListener(net.core.currentCpu());
                    return;
                }
                throw SockException.of(Errno.ENOTCONN);
            }
            setShutdown(shutdownBits() | (how + 1));
            if (how != SocketCalls.SHUT_RD) {
                closeState(net.core.currentCpu());
            }
            wake();
        } finally {
            releaseSock();
            abortChildren(children, net.core.currentCpu());
        }
    }

    /** {@code tcp_close_state} and {@code tcp_send_fin}: the state our FIN moves to, and the FIN queued. */
    private void closeState(int cpu) {
        switch (state) {
            case TCP_ESTABLISHED, TCP_SYN_RECV -> setState(TCP_FIN_WAIT1, cpu);
            case TCP_CLOSE_WAIT -> setState(TCP_LAST_ACK, cpu);
            default -> {
                return;
            }
        }
        finQueued = true;
        output.writeXmit(cpu);
    }

    /**
     * {@code tcp_close}: unread data resets the connection (TCPAbortOnClose), as does SO_LINGER with a
     * zero time (TCPAbortOnData); otherwise our FIN goes after the queued bytes and the orphan finishes
     * the close on its own (FIN-WAIT-2 for {@code tcp_fin_timeout}, TIME-WAIT for 2MSL).
     */
    @Override
    protected void release() {
        if (frozen) {
            return; // its connection lives on in the next version, or was refused by it
        }
        net.created.remove(this);
        ArrayDeque<TcpSock> children = null;
        lockSock();
        try {
            int c = net.core.currentCpu();
            switch (state) {
                case TCP_LISTEN -> {
                    children = closeListener(c);
                    return;
                }
                case TCP_CLOSE -> {
                    if (portHeld) {
                        net.putPort(this, localPort);
                        portHeld = false;
                    }
                    if (hashed) {
                        net.ehashRemove(this);
                        hashed = false;
                    }
                    return;
                }
                case TCP_SYN_SENT -> {
                    done(c);
                    return;
                }
                default -> {
                }
            }
            int[] linger = new int[2];
            try {
                getOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_LINGER, linger);
            } catch (SockException e) {
                linger[0] = 0;
            }
            if (readable() > 0) {
                net.mib.inc(c, TcpMib.Ext.TCPAbortOnClose);
                output.sendActiveReset(c);
                done(c);
            } else if (linger[0] != 0 && linger[1] == 0) {
                net.mib.inc(c, TcpMib.Ext.TCPAbortOnData);
                output.sendActiveReset(c);
                done(c);
            } else {
                setShutdown(RCV_SHUTDOWN | SEND_SHUTDOWN);
                closeState(c);
                if (state == TCP_FIN_WAIT2 && !orphanFinWait2(c)) {
                    twTimer.mod(net.finTimeout.get() * 1000L);
                }
                if (state != TCP_CLOSE) {
                    if (checkOom()) { // tcp_close: no room for one more orphan
                        net.mib.inc(c, TcpMib.Ext.TCPAbortOnMemory);
                        output.sendActiveReset(c);
                        done(c);
                    } else {
                        net.orphans.add(this); // tcp_orphan_count: ss -a still shows it
                    }
                }
            }
        } finally {
            releaseSock();
            abortChildren(children, net.core.currentCpu());
        }
    }

    /**
     * {@code inet_csk_listen_stop}, under the listener's lock: it leaves the listening hash and gives up
     * the children it has not handed out, which the caller resets once the lock is released (a child's
     * softirq takes the child's lock, then the listener's: never the other way round).
     */
    private ArrayDeque<TcpSock> closeListener(int cpu) {
        net.listenUnhash(this);
        state = TCP_CLOSE;
        if (portHeld) {
            net.putPort(this, localPort);
            portHeld = false;
        }
        ArrayDeque<TcpSock> children = new ArrayDeque<>(acceptQueue);
        acceptQueue.clear();
        wake();
        return children;
    }

    /** The children of a closed listener are reset; each leaves the port the listener shared with it. */
    private static void abortChildren(ArrayDeque<TcpSock> children, int cpu) {
        if (children == null) {
            return;
        }
        for (TcpSock child : children) {
            child.lock.lock();
            try {
                if (child.state != TCP_CLOSE) {
                    child.output.sendActiveReset(cpu);
                    child.done(cpu); // parent still set: done gives the port back
                }
            } finally {
                child.unlockSock(cpu);
            }
        }
    }

    @Override
    protected SockAddr source(SkBuff skb) {
        return remoteAddress();
    }

    // --- the clocks (ms, and the timestamp option's) ---

    long nowMs() {
        return net.core.nanoTime() / 1_000_000L;
    }

    int tsNow() {
        return (int) nowMs() + tsOff;
    }

    // --- socket options at IPPROTO_TCP (do_tcp_setsockopt, do_tcp_getsockopt) ---

    /** {@code nonagle} bits: TCP_NODELAY and TCP_CORK. */
    static final int NAGLE_OFF = 1;
    static final int NAGLE_CORK = 2;
    /** {@code TCP_NAGLE_PUSH}: setting TCP_NODELAY sends what waits, even under TCP_CORK. */
    static final int NAGLE_PUSH = 4;
    /** {@code TCP_MIN_MSS} and {@code MAX_TCP_WINDOW}: TCP_MAXSEG's bounds. */
    static final int MIN_MSS = 88;
    static final int MAX_TCP_WINDOW = 32767;
    /** {@code MAX_TCP_KEEPIDLE}, {@code MAX_TCP_KEEPINTVL}, {@code MAX_TCP_KEEPCNT}. */
    static final int MAX_KEEPIDLE = 32767;
    static final int MAX_KEEPINTVL = 32767;
    static final int MAX_KEEPCNT = 127;
    /** {@code TCP_RESOURCE_PROBE_INTERVAL}: a keepalive probe that could not be sent is tried again this soon. */
    static final long RESOURCE_PROBE_MS = 500;
    /** {@code TCP_PAWS_24DAYS}: a ts_recent this old no longer rejects anything (RFC 7323 5.5). */
    static final long PAWS_24DAYS_MS = 24L * 24 * 3600 * 1000;
    /** {@code TCP_PAWS_WINDOW}: the slack PAWS allows an older timestamp. */
    static final int PAWS_WINDOW = 1;

    /**
     * {@code do_tcp_setsockopt}: TCP_NODELAY and TCP_CORK (setting the one or clearing the other pushes what waits),
     * TCP_MAXSEG (88..32767, or 0 to forget it), TCP_KEEPIDLE/TCP_KEEPINTVL (1..32767 s), TCP_KEEPCNT
     * (1..127), TCP_USER_TIMEOUT (ms, not negative), TCP_QUICKACK. EINVAL for a value out of range,
     * ENOPROTOOPT for an option TCP does not have.
     */
    @Override
    protected void setProtocolOption(int level, int name, int[] v) throws SockException {
        if (level != SocketCalls.IPPROTO_TCP) {
            throw SockException.of(Errno.ENOPROTOOPT);
        }
        if (v == null || v.length < 1) {
            throw SockException.of(Errno.EINVAL);
        }
        if (name == TcpCongestion.TCP_CONGESTION) {
            setCongestion(TcpCongestion.name(v, Math.min(v.length, TcpCongestion.CA_NAME_MAX / 4)));
            return;
        }
        int val = v[0];
        lockSock();
        try {
            int c = net.core.currentCpu();
            switch (name) {
                case SocketCalls.TCP_NODELAY -> {
                    if (val != 0) {
                        nonagle |= NAGLE_OFF | NAGLE_PUSH;
                        output.writeXmit(c); // tcp_push_pending_frames
                        nonagle &= ~NAGLE_PUSH;
                    } else {
                        nonagle &= ~NAGLE_OFF;
                    }
                }
                case SocketCalls.TCP_CORK -> {
                    if (val != 0) {
                        nonagle |= NAGLE_CORK;
                    } else {
                        nonagle &= ~NAGLE_CORK;
                        output.writeXmit(c);
                    }
                }
                case SocketCalls.TCP_MAXSEG -> {
                    if (val != 0 && (val < MIN_MSS || val > MAX_TCP_WINDOW)) {
                        throw SockException.of(Errno.EINVAL);
                    }
                    rx.userMss = val;
                }
                case SocketCalls.TCP_KEEPIDLE -> {
                    if (val < 1 || val > MAX_KEEPIDLE) {
                        throw SockException.of(Errno.EINVAL);
                    }
                    keepaliveTime = val;
                    if (keepalive() && state != TCP_CLOSE && state != TCP_LISTEN) { // tcp_sock_set_keepidle_locked
                        keepaliveTimer.mod(Math.max(1, val * 1000L - timers.keepaliveIdleMs()));
                    }
                }
                case SocketCalls.TCP_KEEPINTVL -> {
                    if (val < 1 || val > MAX_KEEPINTVL) {
                        throw SockException.of(Errno.EINVAL);
                    }
                    keepaliveIntvl = val;
                }
                case SocketCalls.TCP_KEEPCNT -> {
                    if (val < 1 || val > MAX_KEEPCNT) {
                        throw SockException.of(Errno.EINVAL);
                    }
                    keepaliveProbes = val;
                }
                case SocketCalls.TCP_USER_TIMEOUT -> {
                    if (val < 0) {
                        throw SockException.of(Errno.EINVAL);
                    }
                    userTimeoutMs = val;
                }
                case SocketCalls.TCP_WINDOW_CLAMP -> setWindowClamp(val);
                case SocketCalls.TCP_QUICKACK -> setQuickack(val, c);
                default -> throw SockException.of(Errno.ENOPROTOOPT);
            }
        } finally {
            releaseSock();
        }
    }

    /**
     * {@code __tcp_sock_set_quickack}: 0 makes the connection interactive (its ACKs wait for an answer to
     * carry them); non-zero leaves pingpong mode and, on an established connection with an ACK due,
     * sends that ACK now as a read that emptied a pushed segment would. An even non-zero value
     * acknowledges now and goes back to pingpong mode: Linux's one-off quick ACK.
     */
    private void setQuickack(int val, int cpu) {
        if (val == 0) {
            enterPingpongMode();
            return;
        }
        pingpong = 0;
        if ((state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT) && ackPending) {
            ackPushed |= ACK_PUSHED;
            cleanupRbuf(cpu, 1);
            if ((val & 1) == 0) {
                enterPingpongMode();
            }
        }
    }

    /**
     * {@code tcp_set_window_clamp}: 0 forgets the clamp, only on a closed socket (EINVAL otherwise); a
     * value is at least {@code SOCK_MIN_RCVBUF / 2}; lowering the clamp lowers {@code rcv_ssthresh} with
     * it (the window offered shrinks as reads and arrivals move it, never its right edge), raising it
     * lets {@code rcv_ssthresh} rise to the window last offered.
     */
    private void setWindowClamp(int val) throws SockException {
        if (val == 0) {
            if (state != TCP_CLOSE) {
                throw SockException.of(Errno.EINVAL);
            }
            windowClamp = 0;
            return;
        }
        int clamp = Math.max(val, MIN_WINDOW_CLAMP);
        if (clamp == windowClamp) {
            return;
        }
        int old = windowClamp;
        windowClamp = clamp;
        if (Integer.compareUnsigned(clamp, old) < 0) {
            rcvSsthresh = Math.min(rcvSsthresh, clamp); // __tcp_adjust_rcv_ssthresh: no reserved memory in modnet
        } else {
            rcvSsthresh = Math.max(Math.min(rcvWnd, clamp), rcvSsthresh);
        }
    }

    /**
     * {@code TCP_CONGESTION} set: ENOENT for a name no algorithm has, EPERM for one not in {@code
     * net.ipv4.tcp_allowed_congestion_control} (modnet's sockets have no CAP_NET_ADMIN to pass that by).
     */
    private void setCongestion(String name) throws SockException {
        CongestionControl.Ca next = net.cong.find(name);
        if (next == null) {
            throw SockException.of(Errno.ENOENT);
        }
        if (!net.cong.allowed(name) && next != ca) {
            throw SockException.of(Errno.EPERM);
        }
        lockSock();
        try {
            caLeft = null; // the user's choice wins over a return
            congSwitch(next, net.core.currentCpu());
        } finally {
            releaseSock();
        }
    }

    /** {@code do_tcp_getsockopt}: TCP_MAXSEG is the current MSS (TCP_MAXSEG's value before a connection). */
    @Override
    protected int getProtocolOption(int level, int name, int[] out) throws SockException {
        if (level == SocketCalls.IPPROTO_IP && name == SocketCalls.IP_MTU) {
            return TcpErr.ipMtu(this, out);
        }
        if (level != SocketCalls.IPPROTO_TCP) {
            throw SockException.of(Errno.ENOPROTOOPT);
        }
        if (name == TcpCongestion.TCP_CONGESTION) { // the name, cut to the caller's length
            if (out == null || out.length < 1) {
                throw SockException.of(Errno.EINVAL);
            }
            int[] w = TcpCongestion.nameWords(ca.name);
            int n = Math.min(out.length, w.length);
            System.arraycopy(w, 0, out, 0, n);
            return n;
        }
        int val = switch (name) {
            case SocketCalls.TCP_NODELAY -> (nonagle & NAGLE_OFF) != 0 ? 1 : 0;
            case SocketCalls.TCP_CORK -> (nonagle & NAGLE_CORK) != 0 ? 1 : 0;
            case SocketCalls.TCP_MAXSEG -> rx.userMss != 0 && (state == TCP_CLOSE || state == TCP_LISTEN) ? rx.userMss : mss;
            case SocketCalls.TCP_KEEPIDLE -> (int) (timers.keepaliveTimeMs() / 1000);
            case SocketCalls.TCP_KEEPINTVL -> (int) (timers.keepaliveIntvlMs() / 1000);
            case SocketCalls.TCP_KEEPCNT -> timers.keepaliveProbesMax();
            case SocketCalls.TCP_USER_TIMEOUT -> userTimeoutMs;
            case SocketCalls.TCP_WINDOW_CLAMP -> windowClamp;
            case SocketCalls.TCP_QUICKACK -> inPingpong() ? 0 : 1;
            default -> throw SockException.of(Errno.ENOPROTOOPT);
        };
        if (out == null || out.length < 1) {
            throw SockException.of(Errno.EINVAL);
        }
        out[0] = val;
        return 1;
    }

    /** A child takes its listener's TCP options, as {@code sk_clone_lock} copies the socket. */
    private void inheritOptions(TcpSock l) {
        ca = l.ca; // the listener's algorithm, as inet_csk_clone_lock copies icsk_ca_ops (congInit checks it is still there)
        caLeft = l.caLeft;
        nonagle = l.nonagle;
        keepaliveTime = l.keepaliveTime;
        keepaliveIntvl = l.keepaliveIntvl;
        keepaliveProbes = l.keepaliveProbes;
        userTimeoutMs = l.userTimeoutMs;
        rx.userMss = l.rx.userMss;
        if (l.keepalive()) {
            try {
                setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_KEEPALIVE, new int[] { 1 });
            } catch (SockException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** {@code tcp_mss_clamp}: TCP_MAXSEG lowers the MSS we announce. */
    private int clampMss(int m) {
        return rx.userMss != 0 && rx.userMss < m ? rx.userMss : m;
    }

    /** What a connection does once it is ESTABLISHED: the clocks keepalive reads, the keepalive timer. */
    void establishedHook() {
        long now = nowMs();
        rcvTstampMs = now;
        lrcvTimeMs = now;
        sndSml = sndUna;
        input.initBufferSpace();
        if ((userLocks() & SOCK_SNDBUF_LOCK) == 0) {
            input.sndbufExpand(); // tcp_init_buffer_space
        }
        if (keepalive()) {
            keepaliveTimer.mod(timers.keepaliveTimeMs());
        }
    }

    // --- rings on demand and send-buffer autotuning (TcpRings; tcp_new_space, tcp_sndbuf_expand) ---

    /** The send ring's size as SO_SNDBUF allows it now: autotuning and setsockopt move it at once. */
    int sndRingLimit() {
        return ringSize(sndbuf());
    }

    /** The send ring holds {@code need} bytes from {@code snd_una}: allocated or doubled as data needs, never per segment. */
    private void sndRingReserve(int need) {
        if (need > sbuf.length) {
            sbuf = TcpRings.grow(sbuf, sndUna - sbase, Math.max(writeSeq - sndUna, 0), need, sndRingLimit());
            sbase = sndUna;
        }
    }

    /**
     * The receive ring holds {@code need} bytes from {@code copied_seq}: allocated or doubled as data
     * needs, keeping the unread bytes and the out-of-order ones beyond them.
     */
    void rcvRingReserve(int need) {
        if (need > rbuf.length) {
            rbuf = TcpRings.grow(rbuf, copiedSeq - rbase, rcvRingLive(), need, rbufLimit);
            rbase = copiedSeq;
        }
    }

    /** The ring's bytes that must stay, from {@code copied_seq}: up to the highest out-of-order byte, else the unread ones. */
    int rcvRingLive() {
        int live = Math.max(readable(), 0);
        live = ofoCount == 0 ? live : Math.max(live, ofoEnd[ofoCount - 1] - copiedSeq);
        return Math.min(live, rbuf.length); // every range's end was reserved: never more than the ring holds
    }

    /**
     * Room for received bytes: the buffer's less what is queued, or what the window we offered still
     * promises if that is more (a window scaled up to its unit may pass the buffer by less than the
     * unit, as Linux's may pass SO_RCVBUF): the ring then grows past the buffer's size to keep it.
     */
    int rcvRoom() {
        return Math.max(rbufLimit - (rcvNxt - copiedSeq), rcvWndRight - rcvNxt);
    }

    /** A ring that is allocated and empty: the reclaim timer will give it back once the connection is quiet. */
    void ringEmptied() {
        if (!reclaimTimer.pending() && sbuf != null && (sbuf.length > 0 && !TcpSeq.after(writeSeq, sndUna)
                || rbuf.length > 0 && readable() <= 0 && ofoCount == 0)) {
            reclaimTimer.mod(TcpRings.IDLE_MS);
        }
    }

    /**
     * Gives back the rings that are empty once no data went either way for {@link TcpRings#IDLE_MS}
     * (Linux frees an skb as it is read or acknowledged and reclaims the socket's memory from its
     * timers, {@code sk_mem_reclaim}; a ring is costlier to make than an skb, so it waits for the
     * connection to go quiet). A request/response connection keeps its rings between requests that
     * come within the idle time; a busy connection sees this timer at most once per idle time.
     */
    private void memReclaim() {
        if (frozen || stoppedClock(0)) {
            return;
        }
        if (!lock.tryLock()) {
            reclaimTimer.mod(5);
            return;
        }
        try {
            if (sbuf == null) {
                return;
            }
            long quiet = nowMs() - Math.max(lastDataSentMs, lastDataRecvMs);
            if (quiet < TcpRings.IDLE_MS && state != TCP_CLOSE) {
                ringEmptied();
                if (reclaimTimer.pending()) {
                    reclaimTimer.mod(TcpRings.IDLE_MS - quiet);
                }
                return;
            }
            if (!TcpSeq.after(writeSeq, sndUna)) {
                sbuf = TcpRings.NONE;
                rec.q.release();
            }
            if (readable() <= 0 && ofoCount == 0) { // out-of-order bytes live in the ring
                rbuf = TcpRings.NONE;
            }
            if (ofoCount == 0) {
                ofoSeq = ofoEnd = NO_INTS;
                ofoFin = NO_BOOLEANS;
            }
        } finally {
            releaseSock(); // segments queued while this held the lock are processed, not left waiting
        }
    }

    /**
     * The out-of-order queue's arrays, before a segment goes in: an in-order connection (most of them,
     * and every idle one) never holds them.
     */
    void ofoReserve() {
        if (ofoSeq.length == 0) {
            ofoSeq = new int[OFO_MAX];
            ofoEnd = new int[OFO_MAX];
            ofoFin = new boolean[OFO_MAX];
        }
    }

    /** The rings' sizes now (0 when not allocated), for tests. */
    int sndRingBytes() {
        return sbuf == null ? 0 : sbuf.length;
    }

    int rcvRingBytes() {
        return rbuf == null ? 0 : rbuf.length;
    }

    // --- keepalive switched on or off (tcp_set_keepalive; the timer is TcpTimers') ---

    /** SO_KEEPALIVE changed ({@code tcp_set_keepalive}): the timer starts at the idle time, or stops. */
    @Override
    protected void keepaliveChanged(boolean on) {
        lockSock();
        try {
            if (state == TCP_CLOSE || state == TCP_LISTEN) {
                return;
            }
            if (on) {
                keepaliveTimer.mod(timers.keepaliveTimeMs());
            } else {
                keepaliveTimer.del();
            }
        } finally {
            releaseSock();
        }
    }

    // --- orphans and TCP's memory (TcpMem) ---

    /**
     * {@code tcp_check_oom}: more orphans than {@code tcp_max_orphans} (this one counted), or TCP over
     * {@code tcp_mem[2]} while this socket still queues more than SOCK_MIN_SNDBUF to send; Linux's
     * words go to the log, rate-limited.
     */
    boolean checkOom() {
        int orphans = net.orphans.size() + (net.orphans.contains(this) ? 0 : 1);
        if (orphans > net.tmem.maxOrphans.get()) {
            net.tmem.warn("TCP: too many orphaned sockets");
            return true;
        }
        if (sbuf != null && writeSeq - sndUna > TcpMem.SOCK_MIN_SNDBUF && net.tmem.overLimit(0)) {
            net.tmem.warn("TCP: out of memory -- consider tuning tcp_mem");
            return true;
        }
        return false;
    }

    // --- SYN cookies and the light TIME-WAIT (TcpSyncookies, TcpTimewaitSock) ---

    /** A segment for a connection that is over: one that went to TIME-WAIT hands it on, else a reset. */
    private void closedRcv(SkBuff skb, int cpu) {
        TcpTimewaitSock tw = timewait;
        if (tw != null && !net.deathRow.receive(tw, skb, cpu)) {
            drop = TcpDrops.Reason.NOT_SPECIFIED; // answered or dropped by the TIME-WAIT sock, as Linux's do_time_wait
            return;
        }
        if (tw != null) { // a SYN that recycled the TIME-WAIT: the listener's
            TcpSock l = net.lookupListener(remoteAddress, remotePort, localAddress, localPort);
            if (l != null) {
                l.deliver(skb.get(), cpu);
                passedOn = true;
            } else {
                drop = TcpDrops.Reason.NO_SOCKET;
            }
            net.deathRow.clearIsn(cpu);
            return;
        }
        TcpProtocol.sendReset(net, skb, cpu);
        drop = TcpDrops.Reason.NO_SOCKET;
    }

    /**
     * {@code tcp_syn_flood_action}: with {@code tcp_syncookies} a cookie answers
     * (TCPReqQFullDoCookies), else the SYN is dropped (TCPReqQFullDrop); the first time for this
     * listener Linux's warning is logged, once.
     */
    private boolean synFloodAction(int cpu) {
        int mode = net.syncookies.get();
        boolean want = mode != 0;
        net.mib.inc(cpu, want ? TcpMib.Ext.TCPReqQFullDoCookies : TcpMib.Ext.TCPReqQFullDrop);
        if (!synfloodWarned && mode != 2) {
            synfloodWarned = true;
            TcpSyncookies.warnFlood(localPort, want);
        }
        return want;
    }

    /** Whether this listener has warned of a SYN flood. */
    boolean synfloodWarned() {
        return synfloodWarned;
    }

    /**
     * {@code cookie_v4_init_sequence} and {@code tcp_make_synack} for a cookie: the SYN-ACK carries the
     * cookie as its ISN and keeps nothing here (SyncookiesSent). Without timestamps the SYN's window
     * scale and SACK cannot be kept, so they are not offered.
     */
    private void sendCookie(SkBuff skb, int saddr, int daddr, int cpu) {
        int th = skb.data();
        TcpOptions o = rx; // the listener's own, free: a listener has no connection options
        o.clear();
        o.parse(skb, th, false, net.optionSysctls());
        o.tstampOk = o.sawTstamp;
        if (!o.tstampOk) {
            o.wscaleOk = false;
            o.sackOk = false;
        }
        int sport = skb.getU16(th + TcpHeader.SOURCE);
        int mssind = TcpSyncookies.mssIndex(o.mssClamp);
        int iss = net.cookies.cookie(saddr, daddr, sport, localPort, skb.getU32(th + TcpHeader.SEQ), mssind);
        synqOverflowMs = nowMs(); // tcp_synq_overflow
        net.mib.inc(cpu, TcpMib.Ext.SyncookiesSent);
        Ipv4.OutputRoute route = net.ipv4.route(ns, saddr);
        int adv = route.device() == null ? TcpOptions.MSS_DEFAULT : Math.min(route.device().mtu(), IPV4_MAX_PMTU) - 40;
        int off = net.isn.tsOff(net.timestamps.get(), daddr, saddr);
        boolean ecnOk = o.tstampOk && TcpEcn.createRequest(net, skb); // a cookie keeps ECN in the timestamp alone
        int tsval = TcpSyncookies.timestamp((int) nowMs(), o.wscaleOk, o.sndWscale, o.sackOk, ecnOk) + off;
        int clamp = initialClamp(windowClamp);
        int rcvWnd = initialRcvWnd(clampMss(adv) - (o.tstampOk ? TcpOutOptions.ALIGNED_TSTAMP : 0), clamp);
        int wscale = o.wscaleOk ? initialWscale(rcvWnd, clamp) : 0;
        int optLen = txOpts.synAck(adv, o.wscaleOk, wscale, o.tstampOk, tsval, o.rcvTsval, o.sackOk);
        int window = Math.min(rcvWnd, 0xffff);
        if (TcpSyncookies.sendSynack(net, skb, iss, window, ecnOk ? TcpHeader.ECE : 0, txOpts, optLen, ttl(), tos())) {
            net.mib.inc(cpu, TcpMib.Tcp.OutSegs);
        }
    }

    /**
     * {@code cookie_v4_check}: an ACK with no request sock, while this listener sent cookies in the last
     * two minutes, may return one. A good cookie (SyncookiesRecv) makes the child from what it and the
     * echoed timestamp carry, and the ACK completes its handshake; a bad one is SyncookiesFailed and the
     * caller resets. True when the segment was taken.
     */
    private boolean cookieCheck(SkBuff skb, int cpu) {
        long since = synqOverflowMs;
        if (net.syncookies.get() == 0 || since == Long.MIN_VALUE || nowMs() - since > TcpSyncookies.VALID_MS || isClosed()) {
            return false;
        }
        int th = skb.data();
        int nh = skb.networkHeader();
        int saddr = skb.getU32(nh + 12);
        int daddr = skb.getU32(nh + 16);
        int sport = skb.getU16(th + TcpHeader.SOURCE);
        int seq = skb.getU32(th + TcpHeader.SEQ);
        int ack = skb.getU32(th + TcpHeader.ACK_SEQ);
        int mssind = net.cookies.check(ack - 1, saddr, daddr, sport, localPort, seq - 1);
        if (mssind < 0) {
            net.mib.inc(cpu, TcpMib.Ext.SyncookiesFailed);
            return false;
        }
        net.mib.inc(cpu, TcpMib.Ext.SyncookiesRecv);
        if (acceptQueue.size() >= maxAckBacklog) {
            net.mib.inc(cpu, TcpMib.Ext.ListenOverflows);
            net.mib.inc(cpu, TcpMib.Ext.ListenDrops);
            return true;
        }
        TcpSock child = new TcpSock(net);
        try {
            child.setBuffers(sndbuf(), rcvbuf(), userLocks()); // sk_clone: the listener's sizes and locks
            child.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEADDR, new int[] { reuseAddr() ? 1 : 0 });
        } catch (SockException e) {
            return true;
        }
        TcpOptions o = child.rx;
        o.clear();
        o.parse(skb, th, false, net.optionSysctls()); // as for a SYN: timestamps by the sysctl, not by a negotiation
        child.tsOff = net.isn.tsOff(net.timestamps.get(), daddr, saddr);
        if (!TcpSyncookies.decodeTimestamp(o, o.rcvTsecr - child.tsOff, net.optionSysctls())) {
            return false;
        }
        child.ecnFlags = TcpSyncookies.ecnOk(o, o.rcvTsecr - child.tsOff, net.ecn.get()) ? TcpEcn.TCP_ECN_OK : 0;
        child.localAddress = daddr;
        child.localPort = localPort;
        child.remoteAddress = saddr;
        child.remotePort = sport;
        child.boundAddress = daddr;
        child.parent = this;
        child.tsRecent = o.rcvTsval;
        child.irs = seq - 1;
        child.rcvNxt = seq;
        child.copiedSeq = seq;
        child.rbase = seq;
        child.iss = ack - 1;
        child.sndUna = child.iss;
        child.sndNxt = ack;
        child.sndMax = ack;
        child.writeSeq = ack;
        child.sbase = ack;
        child.retransHigh = child.iss;
        // the cookie's ACK is past the handshake: its window is scaled (tcp_create_openreq_child), by the
        // scale the cookie's timestamp carried
        child.sndWnd = skb.getU16(th + TcpHeader.WINDOW) << (o.wscaleOk ? o.sndWscale : 0);
        child.sndWl1 = child.irs;
        child.maxWindow = child.sndWnd;
        Ipv4.OutputRoute route = net.ipv4.route(ns, saddr);
        child.routeDev = route.device();
        child.advmss = route.device() == null ? TcpOptions.MSS_DEFAULT : Math.min(route.device().mtu(), IPV4_MAX_PMTU) - 40;
        child.mss = Math.min(TcpSyncookies.MSSTAB[mssind], child.advmss) - (o.tstampOk ? TcpOutOptions.ALIGNED_TSTAMP : 0);
        TcpErr.initMss(child);
        child.windowClamp = windowClamp;
        child.selectInitialWindow(child.clampMss(child.advmss) - (o.tstampOk ? TcpOutOptions.ALIGNED_TSTAMP : 0), o.wscaleOk);
        child.rcvWndRight = child.rcvNxt + Math.min(child.rcvWnd, 0xffff); // what the cookie SYN-ACK offered
        child.state = TCP_SYN_RECV;
        child.lock.lock(); // before it is visible: another CPU's segment for it waits in its backlog
        try {
            if (!net.ehashInsert(child)) {
                return true;
            }
            child.hashed = true;
            net.inheritPort(child, localPort);
            child.portHeld = true;
            child.input.rcvStateProcess(skb, cpu); // tcp_child_process: the ACK completes the handshake
            if (child.state == TCP_SYN_RECV) {
                child.done(cpu); // not taken (the accept queue filled meanwhile): nothing holds it
            }
        } finally {
            child.unlockSock(cpu);
        }
        return true;
    }

    /**
     * {@code tcp_time_wait}: the connection gives way to a {@link TcpTimewaitSock} holding the 4-tuple for
     * {@code timeoMs} in {@code substate} — unless {@code tcp_max_tw_buckets} are taken
     * (TCPTimeWaitOverflow), when it simply closes — and is done.
     */
    private void timeWait(int substate, long timeoMs, int cpu) {
        TcpTimewaitSock tw = null;
        TcpTimewaitSock.DeathRow row = net.deathRow;
        if (row.count.get() < row.maxBuckets.get()) {
            tw = new TcpTimewaitSock(net, localAddress, localPort, remoteAddress, remotePort, reuseAddr(), ttl(), tos(), this.cpu,
                    substate, rcvNxt, sndNxt, Math.max(rcvWndRight - rcvNxt, 0), rcvWscale, rx.tstampOk, tsOff, tsRecent);
            if (!row.insert(tw)) {
                tw = null;
            }
        }
        if (tw == null) {
            net.mib.inc(cpu, TcpMib.Ext.TCPTimeWaitOverflow);
        } else {
            tw.schedule(timeoMs);
            timewait = tw;
        }
        done(cpu);
    }

    /**
     * {@code tcp_close}/{@code tcp_rcv_state_process} for an orphan in FIN-WAIT-2: when
     * {@code tcp_fin_timeout} is no longer than 2MSL a timewait sock waits for the peer's FIN instead of
     * the full socket. False when the full socket keeps waiting.
     */
    boolean orphanFinWait2(int cpu) {
        long tmo = net.finTimeout.get() * 1000L;
        if (tmo > TIMEWAIT_MS) {
            return false;
        }
        timeWait(TCP_FIN_WAIT2, tmo, cpu);
        return true;
    }

    /**
     * {@code __inet_check_established}'s TIME-WAIT half: a connect to a 4-tuple in TIME-WAIT takes it
     * over when {@code tcp_tw_reuse} allows, or from a port the user bound when the old connection had
     * timestamps ({@link TcpTimewaitSock#reusable(boolean)}; TWRecycled), starting its sequence numbers
     * beyond the old connection's; false otherwise (EADDRNOTAVAIL).
     */
    private boolean checkTimewait(boolean boundPort) {
        TcpTimewaitSock tw = net.deathRow.lookup(remoteAddress, remotePort, localAddress, localPort);
        if (tw == null) {
            return true;
        }
        if (!tw.reusable(boundPort)) {
            return false;
        }
        int seq = tw.sndNxt + 65535 + 2;
        iss = seq == 0 ? 1 : seq;
        tsRecent = tw.tsRecent;
        tw.kill();
        net.mib.inc(net.core.currentCpu(), TcpMib.Ext.TWRecycled);
        return true;
    }
}
