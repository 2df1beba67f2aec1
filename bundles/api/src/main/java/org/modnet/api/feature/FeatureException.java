package org.modnet.api.feature;

/** A feature could not be read, installed or removed; the message says why and what to do. */
public class FeatureException extends Exception {
    private static final long serialVersionUID = 1L;

    public FeatureException(String message) {
        super(message);
    }

    public FeatureException(String message, Throwable cause) {
        super(message, cause);
    }
}
