/**
 * A generated Elixir corpus for the language-server benchmarks: modules in the shapes real
 * projects have (GenServers with callbacks, recursive helpers, pipelines, `with`/`case`,
 * `receive`, docs, specs, ExUnit tests), varied names so nothing repeats verbatim.
 */

/** One module of roughly 120 lines; `i` varies the names. */
export function moduleSource(i: number): string {
  const m = `Corpus.Area${i % 37}.Service${i}`;
  return `defmodule ${m} do
  @moduledoc """
  Keeps accounts for area ${i}: balances, holds and an audit trail.
  Messages: \`{:job, from, ref, n}\` to workers, \`{:result, ref, value}\` back.
  """
  use GenServer
  require Logger

  alias Corpus.Area${i % 37}.Audit
  @timeout ${1000 + (i % 9) * 250}

  @type account :: %{id: String.t(), balance: integer(), holds: [integer()]}

  def start_link(opts \\\\ []) do
    GenServer.start_link(__MODULE__, Keyword.get(opts, :accounts, %{}), opts)
  end

  @spec deposit(GenServer.server(), String.t(), pos_integer()) :: {:ok, integer()} | {:error, term()}
  def deposit(server \\\\ __MODULE__, id, amount) when is_integer(amount) and amount > 0 do
    GenServer.call(server, {:deposit, id, amount}, @timeout)
  end

  def withdraw(server \\\\ __MODULE__, id, amount) when amount > 0,
    do: GenServer.call(server, {:withdraw, id, amount}, @timeout)

  def hold(server, id, amount), do: GenServer.cast(server, {:hold, id, amount})

  @impl true
  def init(accounts) do
    Process.flag(:trap_exit, true)
    {:ok, %{accounts: accounts, log: [], seq${i}: 0}}
  end

  @impl true
  def handle_call({:deposit, id, amount}, _from, %{accounts: accounts} = state) do
    case Map.fetch(accounts, id) do
      {:ok, %{balance: balance} = acct} ->
        updated = %{acct | balance: balance + amount}
        {:reply, {:ok, updated.balance}, put_account(state, id, updated)}

      :error ->
        Logger.warning("unknown account #{id} in area ${i}")
        {:reply, {:error, :no_account}, state}
    end
  end

  def handle_call({:withdraw, id, amount}, {pid, _tag}, state) do
    with {:ok, acct} <- Map.fetch(state.accounts, id),
         true <- acct.balance - Enum.sum(acct.holds) >= amount do
      updated = %{acct | balance: acct.balance - amount}
      send(pid, {:withdrawn, id, amount})
      {:reply, {:ok, updated.balance}, put_account(state, id, updated)}
    else
      :error -> {:reply, {:error, :no_account}, state}
      false -> {:reply, {:error, {:insufficient_funds, id}}, state}
    end
  end

  @impl true
  def handle_cast({:hold, id, amount}, state) do
    {:noreply, update_in(state, [:accounts, id, :holds], &[amount | &1 || []])}
  end

  @impl true
  def handle_info({:EXIT, _pid, reason}, state) do
    Logger.info("worker exited: #{inspect(reason)}")
    {:noreply, state}
  end

  def handle_info(_other, state), do: {:noreply, state}

  defp put_account(%{accounts: accounts, log: log} = state, id, acct) do
    %{state | accounts: Map.put(accounts, id, acct), log: [{id, acct.balance} | log]}
  end

  @doc "Sum of a list with an accumulator."
  def total(list), do: total(list, 0)
  defp total([], acc), do: acc
  defp total([head | tail], acc) when is_number(head), do: total(tail, acc + head)

  def fib${i}(n) when n < 2, do: n
  def fib${i}(n), do: fib${i}(n - 1) + fib${i}(n - 2)

  def run(numbers, workers \\\\ ${2 + (i % 4)}) do
    pids = for _ <- 1..workers, do: spawn_link(__MODULE__, :worker, [])

    numbers
    |> Enum.with_index()
    |> Enum.map(fn {n, idx} ->
      ref = make_ref()
      send(Enum.at(pids, rem(idx, workers)), {:job, self(), ref, n})
      ref
    end)
    |> Enum.map(&await/1)
  end

  def worker do
    receive do
      {:job, from, ref, n} ->
        send(from, {:result, ref, n * n + ${i}})
        worker()

      :stop ->
        :ok
    end
  end

  defp await(ref) do
    receive do
      {:result, ^ref, value} -> value
    after
      @timeout -> raise "worker #{inspect(ref)} did not answer in time"
    end
  end

  def parse(<<"v", version::binary-size(1), ":", rest::binary>>), do: {String.to_integer(version), rest}
  def parse(other), do: {:error, {:bad_header, other}}

  # Formats a report line; ${"x".repeat(i % 20)}
  def report(%Audit{entries: entries} = audit, opts \\\\ [width: 80]) do
    width = Keyword.fetch!(opts, :width)
    entries
    |> Enum.filter(&match?({_, _}, &1))
    |> Enum.map_join("\\n", fn {k, v} -> String.pad_trailing("#{k}", width) <> to_string(v) end)
    |> then(&"#{audit.title}: #{&1}")
  end
end
`;
}

/** ExUnit tests for module `i`. */
export function testSource(i: number): string {
  const m = `Corpus.Area${i % 37}.Service${i}`;
  return `defmodule ${m}Test do
  use ExUnit.Case, async: true

  setup do
    pid = start_supervised!({${m}, accounts: %{"a" => %{balance: 10, holds: []}}})
    %{pid: pid}
  end

  describe "deposit/3" do
    test "adds to the balance", %{pid: pid} do
      assert {:ok, 15} = ${m}.deposit(pid, "a", 5)
    end

    test "unknown account", %{pid: pid} do
      assert {:error, :no_account} = ${m}.deposit(pid, "zz", 5)
    end
  end

  test "fib" do
    assert ${m}.fib${i}(10) == 55
  end
end
`;
}

/** Modules and tests concatenated until the text is at least `bytes` long. */
export function corpus(bytes: number): string[] {
  const files: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const text = i % 4 === 3 ? testSource(i) : moduleSource(i);
    files.push(text);
    size += text.length;
  }
  return files;
}
