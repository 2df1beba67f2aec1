package org.modnet.api.netfilter;

/**
 * What a tracked connection ({@code struct nf_conn}) lets other layers read and set: its mark
 * ({@code ct->mark}), which {@code CONNMARK} and {@code -m connmark} use and {@code conntrack -L} prints
 * as {@code mark=N}. The connection an skb belongs to ({@code SkBuff#nfct()}) implements it when
 * conntrack tracks the packet.
 */
public interface NfConnMark {
    /** {@code ct->mark}. */
    int mark();

    /** Sets {@code ct->mark} (a plain store, as {@code WRITE_ONCE(ct->mark, ...)}). */
    void mark(int mark);

    /** The conntrack zone the connection lives in ({@code nf_ct_zone}); 0 unless a template gave one. @since 1.5 */
    default int zone() {
        return 0;
    }

    /** The connection's {@code IPS_*} status bits ({@code ct->status}: expected, seen-reply, assured, confirmed, snat, dnat, ... dying), as nft's {@code ct status} reads them. @since 1.7 */
    default int status() {
        return 0;
    }
}
