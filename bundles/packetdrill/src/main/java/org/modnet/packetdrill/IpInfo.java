package org.modnet.packetdrill;

/**
 * The IP-level bits a packet line may give in {@code [...]} or {@code (...)} (parser.y {@code ip_info}):
 * the ECN codepoint ({@code noecn ect1 ect0 ce}, or {@code ect01} = ECT(0) or ECT(1), outbound only),
 * or a whole TOS byte ({@code tos 0x..}); a flow label; a TTL / hop limit (0 = not given).
 */
public record IpInfo(TosCheck check, int tos, Ecn ecn, int flowLabel, int ttl) {
    public static final IpInfo NONE = new IpInfo(TosCheck.NONE, 0, null, 0, 0);

    /** What of the TOS byte an outbound packet's line checks. */
    public enum TosCheck { NONE, ECN, TOS }

    /** ECN codepoints by their packetdrill names, with the two-bit value they stand for. */
    public enum Ecn {
        NOECN(0), ECT1(1), ECT0(2), CE(3),
        /** Either ECT(0) or ECT(1): only an outbound packet may say this. */
        ECT01(-1);

        public final int bits;

        Ecn(int bits) {
            this.bits = bits;
        }
    }

    /** {@code [ect0]}, {@code [tos 0x4,flowlabel 0x1]}, {@code [ttl 64]}, or "" when nothing is given. */
    public String toScript() {
        StringBuilder b = new StringBuilder();
        if (check == TosCheck.ECN) {
            b.append(ecn.name().toLowerCase(java.util.Locale.ROOT));
        } else if (check == TosCheck.TOS) {
            b.append("tos 0x").append(Integer.toHexString(tos));
        }
        if (flowLabel != 0) {
            b.append(b.isEmpty() ? "" : ",").append("flowlabel 0x").append(Integer.toHexString(flowLabel));
        }
        if (ttl != 0) {
            b.append(b.isEmpty() ? "" : ",").append("ttl ").append(ttl);
        }
        return b.isEmpty() ? "" : "[" + b + "]";
    }
}
