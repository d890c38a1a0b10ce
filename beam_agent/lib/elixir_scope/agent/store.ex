defmodule ElixirScope.Agent.Store do
  @moduledoc false
  # Owns the shared state the hot path writes into, and nothing else, so that a crash of the
  # collector never takes the tables away from instrumented code:
  #
  #   * `:elixir_scope_events`   ordered_set of flushed chunks `{key, pid, words, n, events}`, key = the smallest seq
  #   * `:elixir_scope_sites`    set of `{site, {kind, module, function, arity, line, file, name}}`
  #   * `:elixir_scope_slots`    set of `{slot, pid}`: which process owns which ordering slot
  #   * `:elixir_scope_free`     set of `{slot}` freed by the collector for reuse
  #   * `:elixir_scope_behaviours` set of `{module, behaviour}` for instrumented OTP callback
  #     modules (`:gen_server`, `{:gen_statem, callback_mode}`), see `ElixirScope.Agent.Events`
  #   * `:elixir_scope_traced`   set of `{pid}`: processes enrolled in VM tracing (they run
  #     instrumented code), see `ElixirScope.Agent.VMTracer`
  #   * one `:atomics` array (see the `@` indexes below), published in `:persistent_term`
  #
  # Instrumented code finds the atomics through `:persistent_term` and the tables by name; when
  # this process is gone the writes fail and are caught (see `ElixirScope.Agent.Runtime`).
  use GenServer

  @events :elixir_scope_events
  @sites :elixir_scope_sites
  @slots :elixir_scope_slots
  @free :elixir_scope_free
  @behaviours :elixir_scope_behaviours
  @traced :elixir_scope_traced

  # Indexes into the atomics array.
  @on 1
  @pending 2
  @cap 3
  @dropped 4
  @next_slot 5
  @slot_base 5
  @max_slots 262_144

  # Undrained chunks may hold at most this many words (8 bytes each) before events are dropped.
  # 64 MB: roughly 600,000 small events, which the collector formats in a few seconds (the
  # at-exit flush must finish in time).
  @default_cap_words 8 * 1024 * 1024

  def events_table, do: @events
  def sites_table, do: @sites
  def slots_table, do: @slots
  def free_table, do: @free
  def behaviours_table, do: @behaviours
  def traced_table, do: @traced
  def key, do: ElixirScope.Agent.Runtime
  def max_slots, do: @max_slots

  def index(:on), do: @on
  def index(:pending), do: @pending
  def index(:cap), do: @cap
  def index(:dropped), do: @dropped
  def index(:next_slot), do: @next_slot
  def index(:slot_base), do: @slot_base

  @doc "The atomics array, or nil when the store is not running."
  def atomics, do: :persistent_term.get(key(), nil)

  @doc "Empties the event table and zeroes the counters (at the start of a session)."
  def reset(ref) do
    :atomics.put(ref, @on, 0)
    :ets.delete_all_objects(@events)
    :atomics.put(ref, @pending, 0)
    :atomics.put(ref, @dropped, 0)
    :ok
  end

  @doc """
  Writes a chunk of events keyed by `key`, a number no greater than any seq in it (its
  smallest): the drain takes chunks in key order and relies on that bound. A key already taken
  (not expected: seqs are unique) moves down to the next free number.
  """
  def insert_chunk(key, words, n, events) do
    if :ets.insert_new(@events, {key, self(), words, n, events}),
      do: :ok,
      else: insert_chunk(key - 1, words, n, events)
  end

  @doc "The cap on undrained words, and setting it (beyond it chunks are dropped and counted)."
  def cap(ref), do: :atomics.get(ref, @cap)
  def set_cap(ref, words), do: :atomics.put(ref, @cap, words)

  @doc "Turns recording on or off (flushes are discarded while off)."
  def enable(ref, on?), do: :atomics.put(ref, @on, if(on?, do: 1, else: 0))

  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  @impl true
  def init(opts) do
    # So that an application stop runs terminate/2 (which takes the persistent term away).
    Process.flag(:trap_exit, true)
    :ets.new(@events, [:ordered_set, :public, :named_table, write_concurrency: true])
    :ets.new(@sites, [:set, :public, :named_table, read_concurrency: true])
    :ets.new(@slots, [:set, :public, :named_table, write_concurrency: true])
    :ets.new(@free, [:set, :public, :named_table, write_concurrency: true])
    :ets.new(@behaviours, [:set, :public, :named_table, read_concurrency: true])
    :ets.new(@traced, [:set, :public, :named_table, write_concurrency: true])
    ref = :atomics.new(@slot_base + @max_slots, signed: true)
    :atomics.put(ref, @cap, Keyword.get(opts, :cap_words, @default_cap_words))
    :persistent_term.put(key(), ref)
    {:ok, ref}
  end

  @impl true
  def terminate(_reason, _ref) do
    :persistent_term.erase(key())
    :ok
  end
end
