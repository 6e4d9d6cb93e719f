package io.pgha.local;
class Placeholder {}
