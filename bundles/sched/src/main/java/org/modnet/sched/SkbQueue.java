package org.modnet.sched;

import org.modnet.api.skb.SkBuff;

/**
 * {@code struct sk_buff_head}: a FIFO that links the skbs themselves through {@code skb->next}, so
 * queueing allocates nothing. Counts packets and bytes. The qdisc's lock guards it.
 */
final class SkbQueue {
    private SkBuff head;
    private SkBuff tail;
    private int len;
    private int bytes;

    void addLast(SkBuff skb) {
        skb.next(null);
        if (tail == null) {
            head = skb;
        } else {
            tail.next(skb);
        }
        tail = skb;
        len++;
        bytes += skb.len();
    }

    void addFirst(SkBuff skb) {
        skb.next(head);
        head = skb;
        if (tail == null) {
            tail = skb;
        }
        len++;
        bytes += skb.len();
    }

    /** Inserts after {@code prev} (null: at the head): netem's time-sorted queue. */
    void addAfter(SkBuff prev, SkBuff skb) {
        if (prev == null) {
            addFirst(skb);
            return;
        }
        skb.next(prev.next());
        prev.next(skb);
        if (tail == prev) {
            tail = skb;
        }
        len++;
        bytes += skb.len();
    }

    SkBuff peek() {
        return head;
    }

    SkBuff peekLast() {
        return tail;
    }

    SkBuff pollFirst() {
        SkBuff skb = head;
        if (skb == null) {
            return null;
        }
        head = skb.next();
        if (head == null) {
            tail = null;
        }
        skb.next(null);
        len--;
        bytes -= skb.len();
        return skb;
    }

    int len() {
        return len;
    }

    int bytes() {
        return bytes;
    }

    /** Frees every skb; returns how many. */
    int purge() {
        int n = 0;
        SkBuff skb;
        while ((skb = pollFirst()) != null) {
            skb.free();
            n++;
        }
        return n;
    }
}
