package org.peft4j.cli;

public final class Main {
    public static void main(String[] args) {
        System.out.println("peft4j");
    }
}
