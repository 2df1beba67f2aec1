package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.TcHook;
import org.modnet.api.skb.SkBuff;

/**
 * {@code gact} ({@code net/sched/act_gact.c}): the generic action, one fixed verdict — drop, pass,
 * continue, pipe, reclassify, trap. It counts every frame, and the dropped ones as drops.
 */
final class ActGact extends TcAction {
    /** Read once per frame; {@code tc actions replace} sets it. */
    private volatile int verdict;

    ActGact(int index, int verdict) {
        super(index);
        this.verdict = verdict;
    }

    @Override
    String kind() {
        return "gact";
    }

    @Override
    int act(SkBuff skb, boolean ingress) {
        stats.sent(skb.len());
        if (verdict == TcHook.TC_ACT_SHOT) {
            stats.drop();
        } else if (verdict == TcHook.TC_ACT_TRAP) {
            skb.free(); // no CPU to trap to: the frame goes, as to a device without offload
            return TcHook.TC_ACT_STOLEN;
        }
        return verdict;
    }

    @Override
    void replaceWith(TcAction fresh) {
        verdict = ((ActGact) fresh).verdict;
    }

    @Override
    List<String> describe() {
        return List.of("gact action " + verdictName(verdict), "\t random type none pass val 0",
                "\t index " + index + " " + refs());
    }
}
